import { describe, expect, it } from "vitest";

import { runLimited } from "./pool";

describe("runLimited", () => {
  it("never runs more than the limit at once, and a failure does not stop the rest", async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const results = await runLimited([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n % 3));
      running -= 1;
      if (n === 2) throw new Error("refused");
      done.push(n);
      return n * 10;
    });
    expect(most).toBe(4);
    expect(done.sort((a, b) => a - b)).toEqual([1, 3, 4, 5, 6, 7, 8, 9]);
    expect(results[1]).toMatchObject({ status: "rejected" });
    expect(results[8]).toEqual({ status: "fulfilled", value: 90 });
  });
});
