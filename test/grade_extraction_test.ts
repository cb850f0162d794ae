/**
 * Answer extraction from realistic multi-paragraph model outputs, end to end (stop strings,
 * \\boxed / "the answer is" / Minerva / last-number rules, double strip_string, choice rules,
 * math_equal). Expected extractions and verdicts follow the authors' math_eval_pred.py +
 * parser.py + grader.py (run with the qwen stop strings, as their runs); each was checked
 * against a local transcription of that code. Part 1 of 2 (part 2: grade_outputs_test.ts).
 */
import assert from "node:assert/strict";
import { type OutputCase, outputFailures } from "./support/grading_cases.ts";

const CASES: OutputCase[] = [
  {
    note: "boxed with degrees",
    output:
      "To find the sum of the interior angles of a hexagon, we use the formula $(n-2)\\cdot 180^\\circ$.\n" +
      "\n" +
      "For a hexagon, $n = 6$, so the sum is $(6-2)\\cdot 180^\\circ = 4 \\cdot 180^\\circ = 720^\\circ$.\n" +
      "\n" +
      "Therefore, the sum of the interior angles is $\\boxed{720^\\circ}$.",
    gold: "720",
    extracted: "720",
    correct: true,
  },
  {
    note: "repeated boxed",
    output: "We first compute $f(2) = 2^2 + 1 = 5$. Then $g(f(2)) = g(5) = 3\\cdot 5 - 2 = 13$.\n" +
      "\n" +
      "Wait, let me double check: $g(x) = 3x - 2$, so $g(5) = 15 - 2 = 13$. Yes.\n" +
      "\n" +
      "So $g(f(2)) = \\boxed{13}$, which I'll restate: the value is $\\boxed{13}$.",
    gold: "13",
    extracted: "13",
    correct: true,
  },
  {
    note: "last boxed wins",
    output: "Let's compute step by step. First candidate: $\\boxed{12}$.\n" +
      "\n" +
      "Hmm, that does not satisfy the second condition, since $12 \\cdot 3 = 36 \\neq 35$.\n" +
      "\n" +
      "Trying again with the correct equation gives $x = 7$, so the answer is $\\boxed{7}$.",
    gold: "7",
    extracted: "7",
    correct: true,
  },
  {
    note: "the answer is, with dollars",
    output:
      "The probability of rolling a sum of 7 with two dice: there are 6 favorable outcomes out of 36.\n" +
      "\n" +
      "So the probability is $\\frac{6}{36} = \\frac{1}{6}$.\n" +
      "\n" +
      "The answer is $\\frac{1}{6}$.",
    gold: "\\frac{1}{6}",
    extracted: "\\frac{1}{6}",
    correct: true,
  },
  {
    note: "minerva style final answer",
    output: "The area of the circle is $\\pi r^2 = \\pi \\cdot 3^2 = 9\\pi$.\n" +
      "\n" +
      "Final Answer: The final answer is $9\\pi$. I hope it is correct.",
    gold: "9\\pi",
    extracted: "9\\pi",
    correct: true,
  },
  {
    note: "gsm8k last number",
    output: "Janet has 16 eggs. She eats 3 and bakes with 4, leaving 16 - 3 - 4 = 9 eggs.\n" +
      "\n" +
      "She sells them at $2 each, so she makes 9 * 2 = 18 dollars.\n" +
      "\n" +
      "#### 18",
    gold: " 18",
    dataset: "gsm8k",
    extracted: "18",
    correct: true,
  },
  {
    note: "last number with thousands comma",
    output: "The total cost is 1,234 plus 766 which gives 2,000 in total.",
    gold: "2000",
    dataset: "gsm8k",
    extracted: "2000",
    correct: true,
  },
  {
    note: "truncated output: last number is intermediate",
    output: "We need to find the number of ways to choose 3 objects from 10.\n" +
      "\n" +
      "Using the combination formula, $\\binom{10}{3} = \\frac{10!}{3!7!}$, and computing the numerator gives 10 * 9 * 8 = 720",
    gold: "120",
    extracted: "720",
    correct: false,
  },
  {
    note: "base model runs on into a new Question: last boxed is the wrong one",
    output:
      "The roots of $x^2 - 5x + 6 = 0$ are $x = 2$ and $x = 3$, so their sum is $\\boxed{5}$.\n" +
      "\n" +
      "Question:\n" +
      "What is the product of the roots of $x^2 - 7x + 10 = 0$?\n" +
      "Answer:\n" +
      "Let's think step by step.\n" +
      "The product is $\\boxed{10}$.",
    gold: "5",
    extracted: "10",
    correct: false,
  },
  {
    note: "cut at <|im_end|>",
    output: "The value of the expression is $\\boxed{42}$.<|im_end|>\n" +
      "<|im_start|>assistant\n" +
      "Actually the value is \\boxed{41}.",
    gold: "42",
    extracted: "42",
    correct: true,
  },
  {
    note: "the word user is a stop string: output cut before the answer",
    output:
      "Let's think about what the user is asking: we need the smallest prime greater than 20.\n" +
      "\n" +
      "The primes after 20 are 23, 29, ... so the answer is $\\boxed{23}$.",
    gold: "23",
    extracted: "",
    correct: false,
  },
  {
    note: "nested braces in boxed",
    output: "Simplifying, $\\sin 60^\\circ = \\frac{\\sqrt{3}}{2}$.\n" +
      "\n" +
      "Thus the answer is $\\boxed{\\frac{\\sqrt{3}}{2}}$.",
    gold: "\\frac{\\sqrt{3}}{2}",
    extracted: "\\frac{\\sqrt{3}}{2}",
    correct: true,
  },
  {
    note: "boxed without braces",
    output: "Counting the cases gives 5 in total, so the answer is $\\boxed 5$.",
    gold: "5",
    extracted: "5",
    correct: true,
  },
  {
    note: "Chinese answer marker",
    output: "首先计算 $3 \\times 4 = 12$，然后加上 $5$。\n" +
      "\n" +
      "所以答案是 17\n" +
      "\n" +
      "验证：$12 + 5 = 17$。",
    gold: "17",
    extracted: "17",
    correct: true,
  },
  {
    note: "letter answer",
    output: "Comparing the options, only (C) satisfies both inequalities.\n" +
      "\n" +
      "The answer is (C).",
    gold: "C",
    extracted: "C",
    correct: true,
  },
  {
    note: "letter gold: letter taken from the output",
    output: "After checking each choice, option D is the only one that works.\n" +
      "\n" +
      "Hence the correct choice is D.",
    gold: "D",
    extracted: "D",
    correct: true,
  },
  {
    note: "boxed with text unit",
    output: "The length of the rod is $5$ cm, as computed above.\n" +
      "\n" +
      "Therefore the answer is $\\boxed{5\\text{ cm}}$.",
    gold: "5",
    extracted: "5",
    correct: true,
  },
  {
    note: "boxed percent",
    output: "The percentage of students who passed is $\\frac{30}{120} \\times 100 = 25$.\n" +
      "\n" +
      "So $\\boxed{25\\%}$ of the students passed.",
    gold: "25",
    extracted: "25",
    correct: true,
  },
  {
    note: "boxed dollars and cents",
    output: "Each ticket costs $\\$18.50$, so the answer is $\\boxed{\\$18.50}$.",
    gold: "18.5",
    extracted: "18.50",
    correct: true,
  },
  {
    note: "boxed text answer",
    output: "The person who finishes first is Evelyn, since her rate is the highest.\n" +
      "\n" +
      "$\\boxed{\\text{Evelyn}}$",
    gold: "\\text{Evelyn}",
    extracted: "Evelyn",
    correct: true,
  },
  {
    note: "interval answer",
    output: "The inequality $x^2 - 4 < 0$ holds for $-2 < x < 2$.\n" +
      "\n" +
      "In interval notation: $\\boxed{(-2, 2)}$.",
    gold: "(-2,2)",
    extracted: "(-2,2)",
    correct: true,
  },
  {
    note: "matrix answer",
    output: "Multiplying the matrices gives\n" +
      "\n" +
      "$$\\boxed{\\begin{pmatrix} 2 & 0 \\\\ 0 & 2 \\end{pmatrix}}$$",
    gold: "\\begin{pmatrix} 2 & 0 \\\\ 0 & 2 \\end{pmatrix}",
    extracted: "\\begin{pmatrix}2&0\\\\0&2\\end{pmatrix}",
    correct: true,
  },
  {
    note: "tuple with left/right",
    output:
      "Converting, $r = 3$ and $\\theta = \\frac{\\pi}{2}$, so the polar coordinates are $\\boxed{\\left(3, \\frac{\\pi}{2}\\right)}$.",
    gold: "\\left( 3, \\frac{\\pi}{2} \\right)",
    extracted: "(3,\\frac{\\pi}{2})",
    correct: true,
  },
  {
    note: "equation answer",
    output: "The slope is 2 and the intercept is 3, so the line is $\\boxed{y = 2x + 3}$.",
    gold: "y=2x+3",
    extracted: "2x+3",
    correct: true,
  },
];

Deno.test("extraction from realistic outputs matches the harness", async () => {
  assert.deepEqual(await outputFailures(CASES), []);
  assert.ok(CASES.length >= 20);
});
