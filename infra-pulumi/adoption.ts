/**
 * The adoption map (stack config `adopt`, src/config/adoption.ts) as resource options: every
 * resource the map names gets the `import` option with its id, and, in step 1, its live inputs in
 * place of the program's (and the tags left to step 2). A transformation on each top-level
 * component reaches every child, so no component needs to know about adoption.
 */
import * as pulumi from "@pulumi/pulumi";
import { type Adoption, STEP_ONE_IGNORED } from "../src/config/adoption.js";

/** The options to add to each top-level component: none without an adoption map. */
export function adoptionOptions(adopt: Adoption | undefined): pulumi.ComponentResourceOptions {
  if (!adopt || Object.keys(adopt).length === 0) return {};
  const transformation: pulumi.ResourceTransformation = (args) => {
    const adopted = adopt[args.name];
    if (!adopted) return undefined;
    return {
      props: adopted.inputs ? { ...args.props, ...adopted.inputs } : args.props,
      opts: pulumi.mergeOptions(args.opts, {
        import: adopted.id,
        ...(adopted.inputs ? { ignoreChanges: [...STEP_ONE_IGNORED] } : {}),
      }),
    };
  };
  return { transformations: [transformation] };
}
