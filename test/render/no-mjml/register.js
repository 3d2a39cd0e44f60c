import { register } from 'node:module';

register('./hook.js', import.meta.url);
