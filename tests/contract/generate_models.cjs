// Generates Python models from schemas/asyncapi.yaml with AsyncAPI Modelina, as an outside
// consumer would: one module per model in the output folder (a package named asyncapimodels).
// Prints the model names as JSON; exit 1 when the document cannot be parsed.
const path = require("path");
const { Parser, fromFile } = require("@asyncapi/parser");
const { PythonFileGenerator } = require("@asyncapi/modelina");

(async () => {
  const { document, diagnostics } = await fromFile(new Parser(), path.resolve(process.argv[2])).parse();
  if (!document) {
    console.error(JSON.stringify(diagnostics.filter((d) => d.severity === 0)));
    process.exit(1);
  }
  const models = await new PythonFileGenerator().generateToFiles(document, path.resolve(process.argv[3]), {});
  console.log(JSON.stringify(models.map((m) => m.modelName)));
})().catch((err) => { console.error(err); process.exit(1); });
