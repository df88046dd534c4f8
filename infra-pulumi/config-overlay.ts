/**
 * A settings section with the stack's config keys laid over it: each key of the section is a
 * config key of the same name (Pulumi.yaml), read with the type of its default (the data file),
 * so a stack that does not set it keeps the data file's value.
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * Returns the section with every config key the stack sets in place of its default, and the keys
 * it set. A value of the wrong type is one problem (its first line) on `problems`; the default
 * stays, so the caller can report every problem at once.
 */
export function overlaySection<T extends object>(
  config: pulumi.Config,
  defaults: T,
  problems: string[],
): { readonly value: T; readonly overrides: Partial<T> } {
  const overrides: Record<string, unknown> = {};
  for (const [name, current] of Object.entries(defaults)) {
    try {
      const value =
        typeof current === "number"
          ? config.getNumber(name)
          : typeof current === "boolean"
            ? config.getBoolean(name)
            : config.get(name);
      if (value !== undefined) overrides[name] = value;
    } catch (error) {
      problems.push(`${config.name}:${name}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  return { value: { ...defaults, ...overrides } as T, overrides: overrides as Partial<T> };
}
