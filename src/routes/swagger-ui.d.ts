// The /docs viewer's files, imported as text (the [[rules]] of wrangler.toml).

declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const text: string;
  export default text;
}

declare module 'swagger-ui-dist/swagger-ui.css' {
  const text: string;
  export default text;
}

declare module 'swagger-ui-dist/package.json' {
  const pkg: { version: string };
  export default pkg;
}
