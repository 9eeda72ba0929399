// Generates Python models with AsyncAPI Modelina, as an outside consumer would.
//   node generate_models.cjs schemas/asyncapi.yaml OUT   one module per model in OUT (package asyncapimodels)
//   node generate_models.cjs schemas/events/X.json       one event schema alone (its JSON Schema input)
// Prints the model names as JSON; exit 1 when the input is refused.
const path = require("path");
const { Parser, fromFile } = require("@asyncapi/parser");
const { PythonFileGenerator, PythonGenerator } = require("@asyncapi/modelina");

async function fromAsyncApi(document, out) {
  const { document: parsed, diagnostics } = await fromFile(new Parser(), path.resolve(document)).parse();
  if (!parsed) {
    console.error(JSON.stringify(diagnostics.filter((d) => d.severity === 0)));
    process.exit(1);
  }
  return new PythonFileGenerator().generateToFiles(parsed, path.resolve(out), {});
}

(async () => {
  const input = process.argv[2];
  const models = input.endsWith(".json")
    ? await new PythonGenerator().generate(require(path.resolve(input)))
    : await fromAsyncApi(input, process.argv[3]);
  console.log(JSON.stringify(models.map((m) => m.modelName)));
})().catch((err) => { console.error(String(err)); process.exit(1); });
