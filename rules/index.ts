import type { Rule } from "../src/rule.js";
import batchnormOnLogits from "./batchnorm-on-logits.js";
import batchnormShapeMismatch from "./batchnorm-shape-mismatch.js";
import reusedBatchnorm from "./reused-batchnorm.js";
import unusedBatchnorm from "./unused-batchnorm.js";

/** Every rule, sorted by id. */
export const rules: readonly Rule[] = [batchnormOnLogits, batchnormShapeMismatch, reusedBatchnorm, unusedBatchnorm] as Rule[];

export const ruleById: ReadonlyMap<string, Rule> = new Map(rules.map((r) => [r.meta.id, r]));
