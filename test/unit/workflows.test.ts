/**
 * The pipelines' security properties, read from the workflow files themselves (docs/pipeline.md): no Pulumi token, OIDC only for named jobs under named conditions, no
 * dependency install scripts, every action pinned by commit.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { IMAGE_KEY } from "../../infra-pulumi/service/config.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import { LAMBDA_BUNDLE } from "../../src/contract/lambda-bundle.js";
import { stackOutputNames } from "../../src/stack/outputs.js";

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  if?: string;
  "runs-on"?: string;
  needs?: string | string[];
  outputs?: Record<string, string>;
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const folder = join(projectRoot, ".github", "workflows");
const files = readdirSync(folder).filter((name) => /\.ya?ml$/.test(name));
const workflows = files.map((name) => {
  const text = readFileSync(join(folder, name), "utf8");
  return { name, text, workflow: parse(text) as Workflow };
});
const jobs = workflows.flatMap(({ name, workflow }) =>
  Object.entries(workflow.jobs).map(([id, job]) => ({ file: name, id, job, key: `${name}:${id}` })),
);

/** The script that writes the function's bundle (src/cli/build-lambda.ts). */
const BUILD_LAMBDA = "build:lambda";
const isPulumiDeploy = (s: Step) =>
  (s.run ?? "").includes("pulumi preview") || s.with?.command === "up" || s.with?.command === "preview";

const MAIN_PUSH = "github.event_name == 'push' && github.ref == 'refs/heads/main'";

/**
 * The only jobs that may ask GitHub for an OIDC token, and what must hold for each: the role it
 * may assume, the condition it runs under, the environment that guards it.
 */
const OIDC_JOBS: Record<string, { role: string; if?: string; environment?: string }> = {
  "app-pipeline.yml:push": { role: "AWS_ECR_PUSH_ROLE_ARN", if: MAIN_PUSH },
  "infra-pipeline.yml:terraform": { role: "AWS_INFRA_PLAN_ROLE_ARN" },
  "infra-pipeline.yml:pulumi-preview": {
    role: "AWS_INFRA_PLAN_ROLE_ARN",
    if: "github.event_name == 'pull_request'",
  },
  "infra-pipeline.yml:pulumi-up": {
    role: "AWS_INFRA_DEPLOY_ROLE_ARN",
    if: MAIN_PUSH,
    environment: "production",
  },
  "app-pipeline.yml:deploy": { role: "AWS_INFRA_DEPLOY_ROLE_ARN", if: MAIN_PUSH, environment: "production" },
};

const idToken = (permissions: Job["permissions"]) =>
  permissions === "write-all" || (typeof permissions === "object" && permissions["id-token"] === "write");

describe("workflows", () => {
  it("finds the workflows", () => {
    expect(files.sort()).toEqual(["app-pipeline.yml", "infra-pipeline.yml"]);
  });

  it("never use a Pulumi access token (the backend is self-managed S3 with KMS)", () => {
    for (const { name, text } of workflows) expect(text, name).not.toMatch(/PULUMI_ACCESS_TOKEN/);
    const pulumiSteps = jobs.flatMap(({ job }) =>
      (job.steps ?? []).filter((s) => s.uses?.startsWith("pulumi/")),
    );
    expect(pulumiSteps.length).toBeGreaterThan(0);
    for (const step of pulumiSteps) expect(step.with?.["cloud-url"]).toBe(`\${{ vars.PULUMI_BACKEND_URL }}`);
  });

  it("grant an OIDC token only to the named jobs, under their conditions, with their role", () => {
    for (const { workflow, name } of workflows) expect(idToken(workflow.permissions), name).toBe(false);
    const granted = jobs.filter(({ job }) => idToken(job.permissions)).map(({ key }) => key);
    expect(granted.sort()).toEqual(Object.keys(OIDC_JOBS).sort());
    for (const { key, job } of jobs) {
      const rule = OIDC_JOBS[key];
      const roles = (job.steps ?? [])
        .filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))
        .map((s) => String(s.with?.["role-to-assume"]));
      if (!rule) {
        expect(roles, `${key} uses AWS without being allowed an OIDC token`).toEqual([]);
        continue;
      }
      expect(roles, key).toEqual([`\${{ vars.${rule.role} }}`]);
      if (rule.if) expect(job.if, key).toBe(rule.if);
      const environment = typeof job.environment === "object" ? job.environment.name : job.environment;
      if (rule.environment) expect(environment, key).toBe(rule.environment);
    }
  });

  it("never give pull-request runs a role that can change anything", () => {
    for (const { key, job } of jobs) {
      const rule = OIDC_JOBS[key];
      if (!rule || rule.if === MAIN_PUSH) continue;
      expect(rule.role, `${key} can run on a pull request`).toBe("AWS_INFRA_PLAN_ROLE_ARN");
      expect(job.environment, key).toBeUndefined();
    }
  });

  it("install dependencies with their scripts off (CI and the image)", () => {
    const commands = [
      ...jobs.flatMap(({ job }) => (job.steps ?? []).map((s) => s.run ?? "")),
      ...readFileSync(join(projectRoot, "Dockerfile.consumer"), "utf8").split("\n"),
    ].flatMap((text) => text.split("\n").filter((line) => /\bnpm (ci|install|i)\b/.test(line)));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const line of commands) expect(line).toContain("--ignore-scripts");
    const rebuilt = jobs.flatMap(({ job }) =>
      (job.steps ?? []).flatMap((s) => /npm rebuild (.*)/.exec(s.run ?? "")?.[1]?.split(/\s+/) ?? []),
    );
    for (const name of rebuilt) expect(["esbuild"], "allow-listed install scripts").toContain(name);
  });

  it("build the consumer image for linux/arm64, on an arm64 runner", () => {
    const image = jobs.find(({ key }) => key === "app-pipeline.yml:image")?.job;
    expect(image?.["runs-on"]).toMatch(/-arm$/);
    const builds = (image?.steps ?? []).filter((s) => /docker (buildx )?build/.test(s.run ?? ""));
    expect(builds).toHaveLength(1);
    expect(builds[0]?.run).toContain("--platform linux/arm64");
  });

  it("deploy the pushed image by its digest, after the push, in the protected environment", () => {
    const push = jobs.find(({ key }) => key === "app-pipeline.yml:push")?.job;
    const deploy = jobs.find(({ key }) => key === "app-pipeline.yml:deploy")?.job;
    expect(push?.outputs?.image).toBe(`\${{ steps.pushed.outputs.image }}`);
    const pushed = push?.steps?.find((s) => s.id === "pushed")?.run ?? "";
    expect(pushed).toContain("{{index .RepoDigests 0}}");
    expect(pushed).toContain("*@sha256:*");
    expect([deploy?.needs].flat()).toContain("push");
    const up = (deploy?.steps ?? []).find((s) => s.uses?.startsWith("pulumi/") && s.with?.command === "up");
    // The key the program reads for the image, and nothing else, set to the pushed digest.
    const configMap = parse(String(up?.with?.["config-map"])) as Record<string, { value: string }>;
    expect(Object.keys(configMap)).toEqual([IMAGE_KEY]);
    expect(configMap[IMAGE_KEY]?.value).toBe(`\${{ needs.push.outputs.image }}`);
    // The preview that the replace check reads deploys the same key.
    const preview = (deploy?.steps ?? [])
      .map((s) => s.run ?? "")
      .find((run) => run.includes("pulumi preview"));
    expect(preview).toContain(`--config "${IMAGE_KEY}=$IMAGE"`);
  });

  it("keep the running image in the infra pipeline's preview and up (images are the app pipeline's)", () => {
    // The stack output of the image shares the config key's name.
    expect(stackOutputNames).toContain(IMAGE_KEY);
    for (const key of ["infra-pipeline.yml:pulumi-preview", "infra-pipeline.yml:pulumi-up"]) {
      const steps = jobs.find((j) => j.key === key)?.job.steps ?? [];
      const keep = steps.findIndex(
        (s) =>
          (s.run ?? "").includes("pulumi stack output --json") &&
          (s.run ?? "").includes(`.${IMAGE_KEY} // empty`) &&
          (s.run ?? "").includes(`pulumi config set ${IMAGE_KEY} "$image"`),
      );
      expect(keep, `${key} sets ${IMAGE_KEY} from the stack output`).toBeGreaterThanOrEqual(0);
      const deploys = steps
        .map((s, i) => ({ s, i }))
        .filter(
          ({ s }) =>
            (s.run ?? "").includes("pulumi preview") ||
            s.with?.command === "up" ||
            s.with?.command === "preview",
        );
      expect(deploys.length, key).toBeGreaterThan(0);
      for (const { i } of deploys)
        expect(i, `${key}: step ${i} runs before the image is kept`).toBeGreaterThan(keep);
    }
  });

  it("run only npm scripts that package.json defines", () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).scripts);
    const used = jobs.flatMap(({ job }) =>
      (job.steps ?? []).flatMap((s) => [...(s.run ?? "").matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1])),
    );
    expect(used).toContain(BUILD_LAMBDA);
    for (const name of used) expect(scripts, `npm run ${name}`).toContain(name);
  });

  it("build the function's bundle before every Pulumi preview or up (a Lambda stack deploys it)", () => {
    // The bundle the build writes is the one the stacks deploy by default.
    expect(settings.lambda.functionBundlePath).toBe(`${LAMBDA_BUNDLE.folder}/${LAMBDA_BUNDLE.zip}`);
    const deploying = jobs.filter(({ job }) => (job.steps ?? []).some(isPulumiDeploy));
    expect(deploying.map(({ key }) => key).sort()).toEqual([
      "app-pipeline.yml:deploy",
      "infra-pipeline.yml:pulumi-preview",
      "infra-pipeline.yml:pulumi-up",
    ]);
    for (const { key, job } of deploying) {
      const steps = job.steps ?? [];
      const build = steps.findIndex((s) => (s.run ?? "").trim() === `npm run ${BUILD_LAMBDA}`);
      expect(build, `${key} runs npm run ${BUILD_LAMBDA}`).toBeGreaterThanOrEqual(0);
      const first = steps.findIndex(isPulumiDeploy);
      expect(build, `${key}: the bundle is built before the first preview or up`).toBeLessThan(first);
    }
  });

  it("hold no long-lived AWS keys (OIDC only)", () => {
    for (const { name, text } of workflows) {
      expect(text, name).not.toMatch(
        /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/i,
      );
      expect(text, name).not.toMatch(/secrets\.AWS_/);
    }
    for (const { key, job } of jobs) {
      for (const step of (job.steps ?? []).filter((s) =>
        s.uses?.startsWith("aws-actions/configure-aws-credentials@"),
      )) {
        expect(Object.keys(step.with ?? {}).sort(), key).toEqual(["aws-region", "role-to-assume"]);
      }
    }
  });

  it("pin every action by a full commit SHA", () => {
    for (const { key, job } of jobs) {
      for (const step of job.steps ?? []) {
        if (!step.uses || step.uses.startsWith("./")) continue;
        expect(step.uses, key).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      }
    }
  });
});
