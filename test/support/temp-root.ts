/**
 * Vitest global setup of every project: the run's temporary files go under one folder of their
 * own, removed when the run ends. Tests, and the CLIs, emulators and Terraform they start, make
 * their scratch folders with os.tmpdir(), which reads TMPDIR; a test that fails or is cut off
 * before its own cleanup would otherwise leave its folder in the machine's /tmp for good (a few
 * thousand after a day of runs).
 *
 * Both projects run their global setups in the one main process before any worker starts, and the
 * workers inherit its environment: the first setup makes the folder, the second finds it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MARKER = "SQS_MESSAGING_TEST_TMPDIR";

export default function setup(): (() => void) | undefined {
  if (process.env[MARKER] !== undefined && process.env[MARKER] === process.env.TMPDIR) return;
  const root = mkdtempSync(join(tmpdir(), "sqs-messaging-test-"));
  process.env.TMPDIR = root;
  process.env[MARKER] = root;
  // Node compiles each module of a process afresh; the suite starts a few hundred CLI processes
  // and a hundred workers that load the same modules (the AWS SDK, zod, Pulumi): with V8's code
  // cache on disk, the first start compiles and the rest read it (~10 % of a CLI start's CPU).
  process.env.NODE_COMPILE_CACHE = join(root, "node-compile-cache");
  // Terraform and its AWS provider (Go) spend much of their CPU collecting garbage: the provider
  // builds its whole schema at every start, and the suite starts it a few hundred times. Half as
  // many collections (GOGC 200, ~5 % more memory) cost terraform-cli 14 % less CPU (23.7 → 20.3 s)
  // and terraform-service ~5 %. A GOGC the caller set wins.
  process.env.GOGC ??= "200";
  return () => rmSync(root, { recursive: true, force: true });
}
