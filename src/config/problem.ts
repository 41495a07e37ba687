/** One problem found while validating configuration, by dotted path ("taskDefinitions[0].name"). */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A problem as a warning reads in every command's output: `<key>: <problem>`. */
export function problemText(problem: ConfigProblem): string {
  return `${problem.path}: ${problem.message}`;
}
