// Reading a custom resource's properties: CloudFormation passes every value as a string, numbers
// included, so each reader checks and converts one property and names it, with the value, when it
// is wrong. `resource` is how the error names the resource, e.g. "health gate".

export function requiredText(resource: string, props: Record<string, unknown>, key: string): string {
  const value = props[key];
  if (typeof value !== 'string' || value === '') {
    throw new Error(`${resource} property ${key}: ${JSON.stringify(value)} must be a non-empty string`);
  }
  return value;
}

export function wholeNumber(resource: string, props: Record<string, unknown>, key: string, min: number): number {
  const raw = props[key];
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`${resource} property ${key}: ${JSON.stringify(raw)} must be a whole number of at least ${min}`);
  }
  return value;
}
