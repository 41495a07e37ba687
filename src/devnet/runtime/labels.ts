/**
 * Names and labels of everything the devnet runtimes create. `down`, `status` and `--all` find
 * resources by these labels (never by name prefix alone), so a crash between "create" and
 * "write the state file" still leaves nothing that `down` cannot see.
 */

export const LABEL_PREFIX = "dev.avsctl";
/** Marks a container, network or volume as created by avsctl's devnet runtime. */
export const LABEL_MANAGED = "dev.avsctl.managed";
/** The (sanitised) project name that owns the resource. */
export const LABEL_PROJECT = "dev.avsctl.project";
/** The component inside the project (`l1`, `aggregator`, `attester-1`, ...). */
export const LABEL_COMPONENT = "dev.avsctl.component";
/** Absolute project directory, so two checkouts with the same name can be told apart. */
export const LABEL_PROJECT_DIR = "dev.avsctl.project-dir";
/** JSON of the component's wait strategies, so `restart`/`status` in a later run can probe it. */
export const LABEL_WAIT = "dev.avsctl.wait";
/** JSON `{containerPort: hostPort}` chosen at creation, for reporting without an inspect. */
export const LABEL_PORTS = "dev.avsctl.ports";
/** Images only: what the image is (`base`, or the caller's kind) and the hash of its inputs. */
export const LABEL_IMAGE = "dev.avsctl.image";
export const LABEL_CONTENT_HASH = "dev.avsctl.content-hash";

/**
 * Environment variables that play the role of labels for plain processes: children inherit
 * them, so a service's own subprocesses are found and stopped too.
 */
export const ENV_PROJECT = "AVSCTL_DEVNET_PROJECT";
export const ENV_COMPONENT = "AVSCTL_DEVNET_COMPONENT";
export const ENV_PROJECT_DIR = "AVSCTL_DEVNET_PROJECT_DIR";

/**
 * Turn any project name (package name, directory name) into something Docker accepts in
 * container and network names: lower case `[a-z0-9_.-]`, starting with a letter or digit.
 *
 * @example sanitizeName("@acme/My AVS") === "acme-my-avs"
 */
export function sanitizeName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .replace(/-+$/, "")
    .slice(0, 63);
  return cleaned === "" ? "default" : cleaned;
}

/** `avsctl-<project>-<component>`: the container name of a component. */
export function containerName(project: string, component: string): string {
  return `avsctl-${sanitizeName(project)}-${sanitizeName(component)}`;
}

/** `avsctl-<project>`: the project's user-defined bridge network. */
export function networkName(project: string): string {
  return `avsctl-${sanitizeName(project)}`;
}

/** `avsctl-<project>-<volume>`: a named volume of the project. */
export function volumeName(project: string, volume: string): string {
  return `avsctl-${sanitizeName(project)}-${sanitizeName(volume)}`;
}

/** The labels every resource of a project carries (containers add the component). */
export function projectLabels(project: string, projectDir?: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_MANAGED]: "true",
    [LABEL_PROJECT]: sanitizeName(project),
  };
  if (projectDir !== undefined) labels[LABEL_PROJECT_DIR] = projectDir;
  return labels;
}

/** A Docker list filter (`{label: [...]}`) selecting one project's resources, or all avsctl ones. */
export function labelFilter(project?: string): { label: string[] } {
  const label = [`${LABEL_MANAGED}=true`];
  if (project !== undefined) label.push(`${LABEL_PROJECT}=${sanitizeName(project)}`);
  return { label };
}
