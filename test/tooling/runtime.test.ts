import { describe, expect, test } from "vitest";
import * as probe from "../runtime/probe";
import { NODE_ONLY_GLOBALS } from "../runtime/convexRuntime";

describe("code under test runs without what Convex's default runtime lacks", () => {
  test.each(NODE_ONLY_GLOBALS)("%s is not there for code in src/ and convex/", (name) => {
    expect(probe.typeOfGlobal(name)).toBe("undefined");
  });

  test("process has env and nothing else", () => {
    expect(probe.processKeys()).toEqual(["env"]);
  });

  test.each(Object.keys(probe.nodeModules))("importing %s fails", async (name) => {
    await expect(probe.nodeModules[name]()).rejects.toThrow(/not available in Convex's default runtime/);
  });

  test("the Web APIs Convex has are there", async () => {
    expect(await probe.hmacLength()).toBe(32);
  });
});
