/** One problem found while validating configuration, by dotted path ("taskDefinitions[0].name"). */
export interface ConfigProblem {
  path: string;
  message: string;
}
