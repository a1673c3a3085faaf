// The breaking-migration scenario's green, when none is given: the reference app whose new release
// drops Greeting.text, the column blue's home page lists. Green's own code stops reading it (its model
// and template), so green serves; blue, still reading it, breaks the moment green migrates. Rewritten
// by exact literals, so a change to the reference app fails loudly instead of playing another scenario.
import * as fs from 'node:fs';
import * as path from 'node:path';

const EDITS: ReadonlyArray<{ readonly file: string; readonly from: string; readonly to: string }> = [
  { file: 'greenlight_example/models.py', from: '    text = models.CharField(max_length=200)\n', to: '' },
  { file: 'greenlight_example/templates/greenlight_example/home.html', from: '{{ greeting.text }}', to: 'greeting {{ greeting.id }}' },
];

const MIGRATION = `from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight_example", "0002_greeting_created")]
    operations = [
        # Contract without the expand: the live release still selects this column.
        migrations.RemoveField(model_name="greeting", name="text"),
    ]
`;

/** The migration the derived green adds, as app.name. */
export const DROPPING_MIGRATION = 'greenlight_example.0003_remove_greeting_text';

/** Writes the reference app (`appDir`) with Greeting.text dropped into `dest`, and returns `dest`. */
export function deriveBreakingGreen(appDir: string, dest: string): string {
  fs.cpSync(appDir, dest, { recursive: true, filter: (src) => path.basename(src) !== '__pycache__' });
  for (const edit of EDITS) {
    const file = path.join(dest, edit.file);
    const text = fs.readFileSync(file, 'utf8');
    if (!text.includes(edit.from)) throw new Error(`breaking-migration: ${edit.file} of the reference app no longer has ${JSON.stringify(edit.from)}; update lib/rehearsal/breaking-migration.ts`);
    fs.writeFileSync(file, text.replace(edit.from, edit.to));
  }
  fs.writeFileSync(path.join(dest, 'greenlight_example', 'migrations', '0003_remove_greeting_text.py'), MIGRATION);
  return dest;
}
