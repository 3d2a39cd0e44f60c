#!/usr/bin/env node
// The shipped entry point runs the compiled CLI (built by `npm install` through `prepare`).
// In development, `npm run gym -- <command>` runs the TypeScript directly with tsx.
import process from 'node:process';
import { run } from '../dist/cli/main.js';

await run(process.argv);
