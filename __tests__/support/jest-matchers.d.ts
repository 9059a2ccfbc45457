// Types of the cdktf jest matchers registered in setup.js (toHaveResourceWithProperties, ...).
import 'cdktf/lib/testing/adapters/jest';
