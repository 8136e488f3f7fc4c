import type { Rule } from "../src/rule.js";
import batchnormBatchSizeOne from "./batchnorm-batch-size-one.js";
import batchnormMomentum from "./batchnorm-momentum.js";
import batchnormOnLogits from "./batchnorm-on-logits.js";
import batchnormShapeMismatch from "./batchnorm-shape-mismatch.js";
import convBiasBeforeBatchnorm from "./conv-bias-before-batchnorm.js";
import missingEval from "./missing-eval.js";
import reusedBatchnorm from "./reused-batchnorm.js";
import unusedBatchnorm from "./unused-batchnorm.js";

/** Every rule, sorted by id. */
export const rules: readonly Rule[] = [batchnormBatchSizeOne, batchnormMomentum, batchnormOnLogits, batchnormShapeMismatch, convBiasBeforeBatchnorm, missingEval, reusedBatchnorm, unusedBatchnorm] as Rule[];

export const ruleById: ReadonlyMap<string, Rule> = new Map(rules.map((r) => [r.meta.id, r]));
