/** The whole live screen drawn from one TuiState: pure, so tests can render any state directly. */
import { useMemo } from "react";
import { Box } from "ink";
import { type MajRule, summarizeAccuracy } from "../accuracy.ts";
import { planLayout } from "../layout.ts";
import { selectedSample, throughput, type TuiState } from "../state.ts";
import { AccuracyPanel } from "./accuracy_panel.tsx";
import { AnalysisLine } from "./analysis_line.tsx";
import { AnswerStream } from "./answer_stream.tsx";
import { ChosenTokenPanel } from "./chosen_token.tsx";
import { FinishedLog } from "./finished_log.tsx";
import { Header, QuestionPanel } from "./header.tsx";
import { HeatmapStrip } from "./heatmap_strip.tsx";
import { HelpOverlay } from "./help_overlay.tsx";
import { ErrorLines, StatusLine } from "./status_line.tsx";

/** Where question texts come from: by request index. */
export type QuestionSource =
  | readonly string[]
  | ReadonlyMap<number, string>
  | ((request: number) => string | undefined);

/** Props of RastView. */
export interface RastViewProps {
  state: TuiState;
  columns: number;
  rows: number;
  questions?: QuestionSource;
  title?: string;
  samplesPerRequest?: number;
  ks?: readonly number[];
  /** Which maj@k the accuracy panel shows (default equivalence, as metrics.json's majAtK). */
  majRule?: MajRule;
}

function questionText(source: QuestionSource | undefined, request: number): string | undefined {
  if (source === undefined) return undefined;
  if (typeof source === "function") return source(request);
  if (source instanceof Map) return source.get(request);
  return (source as readonly string[])[request];
}

/** Finished samples (scrollback), then header, panels, errors and the status line. */
export function RastView(props: RastViewProps) {
  const { state } = props;
  const layout = planLayout({
    columns: props.columns,
    rows: props.rows,
    panels: state.panels,
    errors: state.errors.length,
  });
  const summary = useMemo(() => summarizeAccuracy(state.verdicts, props.ks, props.majRule), [
    state.verdicts,
    props.ks,
    props.majRule,
  ]);
  const sample = selectedSample(state);
  const liveKeys = [...state.samples.keys()];
  const request = sample?.request ?? state.finished[state.finished.length - 1]?.request;
  const liveSamples = [...state.samples.values()].filter((s) => s.request === request)
    .map((s) => s.sample);
  const idle = state.endedAt !== undefined
    ? "all samples finished"
    : state.paused
    ? "paused"
    : "waiting for the engine…";

  const question = (
    <QuestionPanel
      request={request}
      question={request === undefined ? undefined : questionText(props.questions, request)}
      width={layout.mainWidth}
      height={layout.question}
    />
  );
  const answer = (
    <AnswerStream sample={sample} idle={idle} width={layout.mainWidth} height={layout.answer} />
  );
  const sideWidth = layout.sideWidth > 0 ? layout.sideWidth : layout.columns;
  // The stats panel's last line is the live analysis once the accuracy has a line of its own.
  const analysisLines = layout.stats >= 2 ? 1 : 0;
  const details = (
    <>
      {layout.heatmap > 0 && (
        <HeatmapStrip
          steps={sample?.steps ?? []}
          rowsPerSign={layout.heatRowsPerSign}
          width={sideWidth}
        />
      )}
      <ChosenTokenPanel chosen={sample?.chosen} width={sideWidth} height={layout.chosen} />
      <AccuracyPanel
        summary={summary}
        request={request}
        verdicts={request === undefined ? undefined : state.verdicts.get(request)}
        liveSamples={liveSamples}
        samplesPerRequest={props.samplesPerRequest}
        width={sideWidth}
        height={analysisLines > 0 ? layout.stats - 1 : layout.stats}
      />
      {analysisLines > 0 && <AnalysisLine state={state} width={sideWidth} />}
    </>
  );
  const bodyHeight = layout.sideWidth > 0
    ? layout.question + layout.answer
    : layout.question + layout.answer + layout.heatmap + layout.chosen + layout.stats;
  let body;
  if (state.help) body = <HelpOverlay width={layout.columns} height={bodyHeight} />;
  else if (layout.sideWidth > 0) {
    body = (
      <Box flexDirection="row" height={bodyHeight}>
        <Box flexDirection="column" width={layout.mainWidth}>{question}{answer}</Box>
        <Box width={1} />
        <Box flexDirection="column" width={layout.sideWidth}>{details}</Box>
      </Box>
    );
  } else body = <Box flexDirection="column" height={bodyHeight}>{question}{answer}{details}</Box>;

  return (
    <Box flexDirection="column" width={layout.columns}>
      <FinishedLog entries={state.finished} width={layout.columns} />
      <Header
        title={props.title}
        sample={sample}
        position={sample ? liveKeys.indexOf(sample.key) + 1 : 0}
        live={liveKeys.length}
        paused={state.paused}
        width={layout.columns}
      />
      {body}
      <ErrorLines errors={state.errors} width={layout.columns} height={layout.errors} />
      <StatusLine
        throughput={throughput(state)}
        memory={state.memory}
        active={state.active}
        waiting={state.waiting}
        paused={state.paused}
        ended={state.endedAt !== undefined}
        quitting={state.quitting}
        width={layout.columns}
      />
    </Box>
  );
}
