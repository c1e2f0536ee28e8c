import { readFile } from 'node:fs/promises';
import { validateXML } from 'xmllint-wasm';

const XSD = new URL('./junit.xsd', import.meta.url);

/** Validate a JUnit report against test/junit/junit.xsd with libxml2 (xmllint, as WebAssembly): the errors, empty when valid. */
export async function junitSchemaErrors(xml: string): Promise<string[]> {
  const r = await validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'junit.xsd', contents: await readFile(XSD, 'utf8') }],
  });
  return r.valid ? [] : r.errors.map((e) => e.rawMessage);
}
