import { loadSequenceFiles } from './src/sequence/load-files.js';
import { compileProgramme, renderWelcome } from './src/render/index.js';
const r = loadSequenceFiles(['sequences/digital-foundations.yaml']);
const s = r[0]!; if (!s.ok) throw new Error('x');
for (const language of ['en', 'cy+en'] as const) {
const c = await compileProgramme(s.sequence, { language });
const ctx = { learner: { first_name: 'Ana', last_name: 'B', email: 'a@b', role: 'x', organisation: 'O' }, manager: { name: 'M', first_name: 'M' }, week: { number: 1, total: 12, theme: 't' }, programme: { title: 'P', id: 'p' } } as any;
const e = renderWelcome(c, ctx, { replyAddress: 'r@x', unsubscribeUrl: undefined });
console.log(e.text.slice(0, 3000));
console.log(e.html.includes('Which is closest'));
}
