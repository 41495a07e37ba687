import { describe, expect, it } from "vitest";
import { nodeOptionsFromEnv, parseWebapiRoutes } from "../../../src/node/options.js";

describe("--avs-webapi-for <taskDefinitionId>=<url>", () => {
  it("maps task definitions to validation URLs, repeated or comma-separated", () => {
    const routes = parseWebapiRoutes([
      "2=http://127.0.0.1:8092",
      "7=http://engine:8092/,9=https://v.example",
    ]);
    expect([...routes]).toEqual([
      [2, "http://127.0.0.1:8092"],
      [7, "http://engine:8092"],
      [9, "https://v.example:4002"],
    ]);
    expect(parseWebapiRoutes([])).toEqual(new Map());
  });

  it.each([
    ["no id", "http://127.0.0.1:8092", /is not <taskDefinitionId>=<url>/],
    ["a negative id", "-1=http://x", /is not <taskDefinitionId>=<url>/],
    ["an id over uint16", "70000=http://x", /is not <taskDefinitionId>=<url>/],
    ["not http", "2=ftp://x", /is not an http\(s\) URL/],
    ["no URL", "2=", /is not an http\(s\) URL/],
  ])("refuses %s (exit 2, naming the flag)", (_what, value, message) => {
    let error: any;
    try {
      parseWebapiRoutes([value]);
    } catch (e) {
      error = e;
    }
    expect(error?.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(message);
    expect(JSON.stringify(error.details ?? {}) + error.message).toMatch(/--avs-webapi-for/);
  });

  it("refuses a definition named twice", () => {
    expect(() => parseWebapiRoutes(["2=http://a", "2=http://b"])).toThrow(/named twice/);
  });

  it("reads AVSCTL_AVS_WEBAPI_FOR, and nothing without it", () => {
    expect(
      nodeOptionsFromEnv({ AVSCTL_AVS_WEBAPI_FOR: "3=http://127.0.0.1:9" }, "attester").avsWebapiFor,
    ).toEqual(new Map([[3, "http://127.0.0.1:9"]]));
    expect(nodeOptionsFromEnv({}, "attester").avsWebapiFor).toBeUndefined();
    expect(() => nodeOptionsFromEnv({ AVSCTL_AVS_WEBAPI_FOR: "x" }, "attester")).toThrow(
      /AVSCTL_AVS_WEBAPI_FOR/,
    );
  });
});
