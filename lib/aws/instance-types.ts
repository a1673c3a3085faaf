// The EC2 instance types that exist, as the EC2 SDK lists them (its InstanceType enum: every type,
// size by size), so a type EC2 would refuse at deploy is refused at synth, in one line.
import { _InstanceType } from '@aws-sdk/client-ec2';

const KNOWN: ReadonlySet<string> = new Set(Object.values(_InstanceType));

const NAMED_SIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge'];

/** Sizes smallest first: the named ones, then 2xlarge, 4xlarge, …, then metal. */
const sizeOrder = (size: string): number => {
  const named = NAMED_SIZES.indexOf(size);
  if (named >= 0) return named;
  const times = /^(\d+)xlarge$/.exec(size);
  return times ? NAMED_SIZES.length + Number(times[1]) : 10_000 + size.length;
};

/** What is wrong with an instance type EC2 does not have, in one line; nothing when it has it. */
export function unknownInstanceType(type: string): string | undefined {
  if (KNOWN.has(type)) return undefined;
  const family = type.split('.')[0];
  const sizes = [...KNOWN].filter((t) => t.startsWith(`${family}.`)).map((t) => t.slice(family.length + 1)).sort((a, b) => sizeOrder(a) - sizeOrder(b) || a.localeCompare(b));
  if (sizes.length > 0) return `${JSON.stringify(type)} is not an EC2 instance type: ${family} comes in ${sizes.join(', ')}`;
  const families = [...new Set([...KNOWN].map((t) => t.split('.')[0]))].filter((f) => f[0] === family[0]).sort();
  return `${JSON.stringify(type)} is not an EC2 instance type: no family "${family}"; families starting with "${family[0]}": ${families.join(', ') || 'none'}`;
}
