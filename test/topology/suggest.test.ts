import { describe, expect, it } from "vitest";
import { didYouMean, nearest } from "../../src/topology/index.js";
import { editDistance } from "../../src/topology/suggest.js";

describe("did you mean", () => {
  it("measures edits, counting a swap of neighbours as one", () => {
    expect(editDistance("depnds_on", "depends_on")).toBe(1);
    expect(editDistance("dpeends_on", "depends_on")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("suggests only close words", () => {
    const keys = ["command", "cwd", "env", "depends_on", "ready", "replicas"];
    expect(didYouMean("depnds_on", keys)).toBe("depends_on");
    expect(didYouMean("Depends-On", keys)).toBe("depends_on");
    expect(didYouMean("comand", keys)).toBe("command");
    expect(didYouMean("replica", keys)).toBe("replicas");
    expect(didYouMean("frobnicate", keys)).toBeUndefined();
    expect(didYouMean("xyz", keys)).toBeUndefined();
    expect(nearest("redy", keys)).toBe("ready");
  });
});
