// A file's text, as vite loads it for `import text from './file.md?raw'` (the gateway's OpenAPI
// test reads docs/api.md this way: workerd has no file system). Its own file: a wildcard module
// is declared only outside a module, and env.d.ts is one.
declare module '*.md?raw' {
  const text: string;
  export default text;
}
