// Parses schemas/asyncapi.yaml with @asyncapi/parser (offline) and prints its diagnostics as JSON.
// Exit 0 when the document is valid and every $ref resolves, 1 otherwise.
const path = require("path");
const { Parser, fromFile } = require("@asyncapi/parser");

(async () => {
  const file = path.resolve(process.argv[2]);
  const parser = new Parser();
  const { document, diagnostics } = await fromFile(parser, file).parse();
  const errors = diagnostics.filter((d) => d.severity === 0);
  const summary = {
    valid: Boolean(document) && errors.length === 0,
    errors: errors.map((d) => ({ code: d.code, message: d.message, path: d.path.join(".") })),
    channels: document ? document.channels().all().map((c) => c.address()) : [],
    messages: document ? document.components().messages().all().map((m) => m.name()) : [],
  };
  console.log(JSON.stringify(summary));
  process.exit(summary.valid ? 0 : 1);
})().catch((err) => { console.error(err); process.exit(1); });
