/**
 * Loads a module inside the running test, as a cold Lambda container loads it: its module-level
 * code (patterns, tables, constants) runs again, within this test, so mutation testing can tell
 * which test checks it (docs/MUTATION.md, "Static mutants"). `load` is
 * `() => require('<path relative to the caller>')`.
 */
export function coldLoad<T>(load: () => T): T {
  let loaded: { value: T } | undefined;
  jest.isolateModules(() => {
    loaded = { value: load() };
  });
  return loaded!.value;
}
