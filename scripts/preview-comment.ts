/**
 * The pull-request comment of a change: each stack's `pulumi preview --json`, as one Markdown
 * comment that the workflow posts once and edits on every push (it finds its own by the marker).
 * GitHub refuses comments over 65,536 characters, so a longer one is summarised: the counts and
 * as many whole resource lines as fit, and a pointer to the full text, which the workflow attaches
 * as an artifact. A line is never cut.
 *
 *   tsx scripts/preview-comment.ts --out comment.md --full preview.md [--artifact URL] dev=dev.json prod=prod.json
 */
import * as fs from "node:fs";

/** GitHub's limit on an issue or pull-request comment's body. */
export const commentLimit = 65_536;

/** What finds the comment to edit: the workflow looks for it. */
export const commentMarker = "<!-- flotilla-preview -->";

/** The part of `pulumi preview --json` the comment reads. */
export interface PreviewJson {
  readonly steps?: readonly { readonly op: string; readonly urn: string; readonly diffReasons?: readonly string[] }[];
  readonly changeSummary?: Readonly<Record<string, number>>;
  readonly diagnostics?: readonly { readonly message: string; readonly severity: string; readonly urn?: string }[];
}

export interface StackPreview {
  readonly stack: string;
  readonly preview: PreviewJson;
}

const opSymbols: Record<string, string> = {
  create: "+",
  update: "~",
  delete: "-",
  replace: "+-",
  "create-replacement": "++",
  "delete-replaced": "--",
  read: ">",
  same: " ",
};

/** `type::name` of a URN (`urn:pulumi:<stack>::<project>::<parent$type>::<name>`). */
function resourceOf(urn: string): string {
  const parts = urn.split("::");
  const type = (parts[2] ?? "").split("$").pop() ?? "";
  return `${type} ${parts[3] ?? ""}`;
}

function summaryLine(preview: PreviewJson): string {
  const counts = Object.entries(preview.changeSummary ?? {}).filter(([op]) => op !== "same");
  return counts.length === 0 ? "no changes" : counts.map(([op, n]) => `${n} to ${op}`).join(", ");
}

/** Every changing resource as one line each, then the warnings and errors: the full text. */
function stackLines(preview: PreviewJson): string[] {
  const changes = (preview.steps ?? [])
    .filter((step) => step.op !== "same")
    .map((step) => `${opSymbols[step.op] ?? step.op} ${resourceOf(step.urn)}${step.diffReasons?.length ? ` (${step.diffReasons.join(", ")})` : ""}`);
  const diagnostics = (preview.diagnostics ?? [])
    .filter((d) => d.severity === "error" || d.severity === "warning")
    // The engine's messages already start with their severity ("warning: ...").
    .map((d) => `${d.severity}: ${(d.message.trim().split("\n")[0] ?? "").replace(/^(warning|error): /, "")}`);
  return [...changes, ...diagnostics];
}

function section(stack: StackPreview, lines: readonly string[], omitted: number): string {
  const body = lines.length > 0 ? ["```diff", ...lines, ...(omitted > 0 ? [`… ${omitted} more lines in the full preview`] : []), "```"] : [];
  return [`### \`${stack.stack}\`: ${summaryLine(stack.preview)}`, "", ...body, ""].join("\n");
}

/**
 * The comment and the full text. The comment is the full text when it fits in `limit`; otherwise
 * each stack keeps its summary and an equal share of whole lines.
 */
export function previewComment(stacks: readonly StackPreview[], opts: { limit?: number; artifact?: string } = {}): { comment: string; full: string } {
  const limit = opts.limit ?? commentLimit;
  const header = `${commentMarker}\n## Pulumi preview\n\n`;
  const full = header + stacks.map((s) => section(s, stackLines(s.preview), 0)).join("\n");
  if (full.length <= limit) {
    return { comment: full, full };
  }
  const pointer = `\n_The preview is longer than a comment may be (${full.length} characters): this is a summary. The full text is attached to the workflow run${opts.artifact ? `: ${opts.artifact}` : ""}._\n`;
  const budget = Math.floor((limit - header.length - pointer.length) / Math.max(1, stacks.length)) - 200;
  const sections = stacks.map((s) => {
    const lines = stackLines(s.preview);
    const kept: string[] = [];
    let size = 0;
    for (const line of lines) {
      if (size + line.length + 1 > budget) {
        break;
      }
      kept.push(line);
      size += line.length + 1;
    }
    return section(s, kept, lines.length - kept.length);
  });
  return { comment: header + sections.join("\n") + pointer, full };
}

function main(argv: string[]): void {
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv.splice(i, 2)[1] : undefined;
  };
  const out = option("--out");
  const fullOut = option("--full");
  const artifact = option("--artifact");
  const stacks = argv.map((arg) => {
    const [stack = "", file = ""] = arg.split("=", 2);
    return { stack, preview: JSON.parse(fs.readFileSync(file, "utf8")) as PreviewJson };
  });
  if (stacks.length === 0) {
    throw new Error("usage: preview-comment.ts [--out FILE] [--full FILE] [--artifact URL] STACK=PREVIEW.json ...");
  }
  const { comment, full } = previewComment(stacks, { artifact });
  if (fullOut) {
    fs.writeFileSync(fullOut, full);
  }
  if (out) {
    fs.writeFileSync(out, comment);
  } else {
    process.stdout.write(comment);
  }
}

if (require.main === module) {
  main(process.argv.slice(2));
}
