/**
 * Answer extraction from realistic multi-paragraph model outputs, end to end (stop strings,
 * \\boxed / "the answer is" / Minerva / last-number rules, double strip_string, choice rules,
 * math_equal). Expected extractions and verdicts follow the authors' math_eval_pred.py +
 * parser.py + grader.py (run with the qwen stop strings, as their runs); each was checked
 * against a local transcription of that code. Part 2 of 2, and stop-string settings.
 */
import assert from "node:assert/strict";
import { Grader } from "../datasets/grading/mod.ts";
import { type OutputCase, outputFailures } from "./support/grading_cases.ts";

const CASES: OutputCase[] = [
  {
    note: "x = prefix dropped",
    output: "Solving $2x + 1 = 11$ gives $\\boxed{x = 5}$.",
    gold: "5",
    extracted: "5",
    correct: true,
  },
  {
    note: "answer with colon",
    output: "Adding everything up we get 7.\n" +
      "\n" +
      "The answer is: 7",
    gold: "7",
    extracted: "7",
    correct: true,
  },
  {
    note: "empty output",
    output: "",
    gold: "7",
    extracted: "",
    correct: false,
  },
  {
    note: "the output 'error' counts as no answer",
    output: "error",
    gold: "7",
    extracted: "",
    correct: false,
  },
  {
    note: "trailing period inside boxed",
    output: "The final count is $\\boxed{5.}$",
    gold: "5",
    extracted: "5",
    correct: true,
  },
  {
    note: "unbalanced boxed at end of a cut-off output",
    output: "After simplifying, the fraction becomes $\\boxed{\\frac{1}{2}",
    gold: "\\frac{1}{2}",
    extracted: "\\frac{1}{2}",
    correct: true,
  },
  {
    note: "negative last number",
    output:
      "The temperature dropped by 3 degrees each hour, starting at 6, so after 3 hours it is 6 - 9 = -3",
    gold: "-3",
    extracted: "-3",
    correct: true,
  },
  {
    note: "decimal last number vs fraction gold",
    output: "The ratio is 3 to 4, which as a decimal is 0.75",
    gold: "\\frac{3}{4}",
    extracted: "0.75",
    correct: true,
  },
  {
    note: "boxed beats later numbers",
    output:
      "The answer is $\\boxed{12}$ because 3 times 4 is 12, and adding 0 changes nothing, giving 12 + 0 = 12 again, not 100.",
    gold: "12",
    extracted: "12",
    correct: true,
  },
  {
    note: "answer is followed by prose",
    output: "He has 12 apples and 3 oranges left. The answer is 12 apples and 3 oranges.",
    gold: "12",
    extracted: "123oranges",
    correct: false,
  },
  {
    note: "minerva with units kept",
    output: "The wavelength is $\\lambda = c/f = 5 \\mathrm{~m}$.\n" +
      "\n" +
      "Final Answer: The final answer is $5 \\mathrm{~m}$. I hope it is correct.",
    gold: "5 \\mathrm{~m}",
    dataset: "minerva_math",
    extracted: "5\\mathrm{~m}",
    correct: true,
  },
  {
    note: "dfrac in boxed",
    output: "The probability simplifies to $\\boxed{\\dfrac{3}{8}}$.",
    gold: "\\frac{3}{8}",
    extracted: "\\frac{3}{8}",
    correct: true,
  },
  {
    note: "Math-Shepherd step tags removed",
    output: "Step 1: compute 2 + 3 = 5. ки\n" +
      "Step 2: multiply by 4 to get 20. ки\n" +
      "The answer is: 20 ки",
    gold: "20",
    extracted: "20",
    correct: true,
  },
  {
    note: "number word answer",
    output: "We count the committees and find there are exactly two of them.\n" +
      "\n" +
      "The answer is two.",
    gold: "2",
    extracted: "2",
    correct: true,
  },
  {
    note: "instruction echo: last boxed is empty",
    output: "Please reason step by step, and put your final answer within \\boxed{}.\n" +
      "\n" +
      "We have $3 \\times 7 = 21$. So the final result is 21.\n" +
      "Remember to put the answer within \\boxed{}.",
    gold: "21",
    extracted: "",
    correct: false,
  },
  {
    note: "display math boxed equation",
    output: "Solving the system yields\n" +
      "\\[\\boxed{x = 5}\\]\n" +
      "which checks out in both equations.",
    gold: "5",
    extracted: "5",
    correct: true,
  },
  {
    note: "set answer",
    output: "The solutions are $1$ and $2$, so the solution set is $\\boxed{\\{1, 2\\}}$.",
    gold: "\\{1,2\\}",
    extracted: "{1,2}",
    correct: true,
  },
  {
    note: "units outside box",
    output: "Let me reconsider. The perimeter is $2(3 + 4) = 14$.\n" +
      "\n" +
      "Therefore, the perimeter is $\\boxed{14}$ units.",
    gold: "14",
    extracted: "14",
    correct: true,
  },
  {
    note: "symbolic answer",
    output:
      "The sum telescopes to $1 - \\frac{1}{n+1} = \\frac{n}{n+1}$, so the answer is $\\boxed{\\frac{n}{n+1}}$.",
    gold: "\\frac{n}{n+1}",
    extracted: "\\frac{n}{n+1}",
    correct: true,
  },
  {
    note: "unsimplified radical vs integer",
    output: "The distance from the origin is $\\sqrt{3^2 + 4^2} = 5$.\n" +
      "\n" +
      "Thus the answer is $\\boxed{\\sqrt{25}}$.",
    gold: "5",
    extracted: "\\sqrt{25}",
    correct: true,
  },
  {
    note: "decimal boxed vs fraction gold",
    output: "The expected value is $\\frac{7}{2}$. So I think the answer is \\boxed{3.5}",
    gold: "\\frac{7}{2}",
    extracted: "3.5",
    correct: true,
  },
  {
    note: "two roots listed",
    output: "Since $x^2 = 16$, we get $x = \\pm 4$, so $\\boxed{-4, 4}$.",
    gold: "-4,4",
    extracted: "-4,4",
    correct: true,
  },
  {
    note: "infinity",
    output: "We evaluate the limit and get $\\boxed{\\infty}$.",
    gold: "\\infty",
    extracted: "\\infty",
    correct: true,
  },
  {
    note: "cut at assistant",
    output: "The largest such number is $\\boxed{999}$.\n" +
      "assistant\n" +
      "I apologize, the largest is 998.",
    gold: "999",
    extracted: "999",
    correct: true,
  },
];

Deno.test("extraction from realistic outputs matches the harness (part 2)", async () => {
  assert.deepEqual(await outputFailures(CASES), []);
  assert.ok(CASES.length >= 20);
});

Deno.test("custom stop strings replace the defaults", async () => {
  const output =
    "The user wants 2 + 2, which is $\\boxed{4}$.\n\nQuestion:\nWhat is 3 + 3?\n$\\boxed{6}$";
  using qwenStops = new Grader({ workers: 1 });
  using abelStops = new Grader({ workers: 1, stopStrings: ["</s>", "Question:", "Answer:"] });
  // default stops cut at "user": no answer is left
  assert.equal((await qwenStops.grade(output, "4")).extracted, "");
  // the abel stops cut at the next "Question:" and keep the first box
  assert.equal((await abelStops.grade(output, "4")).extracted, "4");
  assert.equal((await abelStops.grade(output, "4")).correct, true);
});
