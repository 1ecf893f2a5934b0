#!/usr/bin/env node
// Lint: no function (declaration, method, arrow) in the runtime code or the Node-side tools is
// longer than MAX_LINES lines. Test files are exempt: a describe block is a list, not logic.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const MAX_LINES = 80;
const ROOTS = ['src', 'durable-objects', 'scripts', 'bench', 'bin', 'lib', 'test/origin'];
const EXTENSIONS = /\.(ts|mjs)$/;

/** @param {string} dir @returns {string[]} */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.') || name === 'results') return [];
    return statSync(path).isDirectory() ? files(path) : EXTENSIONS.test(name) ? [path] : [];
  });
}

/** @param {string} file @returns {string[]} */
function longFunctions(file) {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  /** @type {string[]} */
  const found = [];
  /** @param {ts.Node} node */
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = src.getLineAndCharacterOfPosition(node.getStart(src)).line;
      const last = src.getLineAndCharacterOfPosition(node.end).line;
      if (last - first + 1 > MAX_LINES) {
        const name = node.name?.getText(src) ?? '(anonymous)';
        found.push(`${file}:${first + 1} ${name} is ${last - first + 1} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return found;
}

const problems = ROOTS.flatMap(files).flatMap(longFunctions);
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`${problems.length} function(s) over ${MAX_LINES} lines: split them`);
  process.exit(1);
}
