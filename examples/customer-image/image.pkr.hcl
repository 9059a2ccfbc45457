# Example machine-image recipe of a customer's infrastructure repository (docs/CUSTOMERS.md,
# "The infrastructure repository"). The platform runs `packer init`, `packer validate` and
# `packer build` on this file with the variables below; it tags the AMI itself.
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = "~> 1.3"
    }
  }
}

# Every variable the platform passes must be declared (Packer rejects an undeclared -var).
variable "region" { type = string }
variable "subnet_id" { type = string }
variable "security_group_id" { type = string }
variable "instance_profile" { type = string }
variable "kms_key_id" { type = string }
variable "project" { type = string }
variable "customer" { type = string }
variable "environment" { type = string }
variable "commit" { type = string }
variable "base_ami" { type = string }

locals {
  # The bake role may launch only instances and volumes with these three tags.
  platform_tags = { customer = var.customer, environment = var.environment, project = var.project }
}

source "amazon-ebs" "web" {
  region                      = var.region
  source_ami                  = var.base_ami
  instance_type               = "t4g.small"
  subnet_id                   = var.subnet_id
  security_group_id           = var.security_group_id
  iam_instance_profile        = var.instance_profile
  associate_public_ip_address = false
  ssh_interface               = "private_ip"
  ssh_username                = "ec2-user"
  ami_name                    = "${var.project}-${var.environment}-${var.customer}-${substr(var.commit, 0, 12)}-{{timestamp}}"
  # The root volume is encrypted with the environment key at launch, so the AMI's snapshot is too
  # (encrypt_boot would copy the image: CopyImage is not granted).
  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 20
    volume_type           = "gp3"
    encrypted             = true
    kms_key_id            = var.kms_key_id
    delete_on_termination = true
  }
  run_tags                    = local.platform_tags
  run_volume_tags             = local.platform_tags
  # Image tags, if any, must include customer = var.customer (the role claims new images only so).
  tags          = merge(local.platform_tags, { commit = var.commit })
  snapshot_tags = merge(local.platform_tags, { commit = var.commit })
}

build {
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    inline = [
      "sudo dnf -y upgrade --refresh",
      "sudo dnf -y install nodejs20",
    ]
  }

  # Required: the platform reads the AMI id from this file.
  post-processor "manifest" {
    output = "packer-manifest.json"
  }
}
