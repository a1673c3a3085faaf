// The preview key: a random value per release that the preview rule requires, besides the header
// naming the release. Without it, knowing or guessing a release id reaches nothing. Pure, apart
// from the random bytes.
import { randomBytes } from 'node:crypto';

/** The header that carries the preview key. */
export const PREVIEW_KEY_HEADER = 'X-Greenlight-Preview-Key';

/**
 * A rule condition no request can meet: no TCP connection comes from the limited broadcast
 * address. A release's preview rule is created with it, so it forwards nothing until the key
 * replaces it, and again should a stack update ever rewrite the rule's conditions.
 */
export const NO_SOURCE = '255.255.255.255/32';

/** 32 random bytes as hex: 64 characters, within a rule condition's 128, with no wildcard in them. */
export const newPreviewKey = (): string => randomBytes(32).toString('hex');

/** A key as newPreviewKey makes them; what a handler accepts before it puts one in a rule. */
export const PREVIEW_KEY_PATTERN = /^[0-9a-f]{64}$/;
