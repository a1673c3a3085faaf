// What the release AMI built by packer/ allows, for checks before anything is synthesized. Each
// fact is copied from packer/ and a test reads the file to keep the two in step.

/** The AMI's architecture: packer/greenlight.pkr.hcl filters its base image on `architecture = "x86_64"`. */
export const IMAGE_ARCHITECTURE = 'x86_64';

/**
 * Whether an instance type is an arm64 (Graviton) type, which cannot boot an x86_64 AMI.
 * EC2 names a type `<family><generation><attributes>.<size>`: Graviton families carry a `g` among
 * the attribute letters after the generation (t4g, m6gd, c7gn, r8g, x2gd, im4gn, is4gen, g5g,
 * hpc7g), and the first-generation Graviton family is `a1`. A leading `g` is the GPU family
 * (g4dn, g5, g6), which is x86_64.
 */
export function isArm64InstanceType(instanceType: string): boolean {
  const family = instanceType.split('.')[0];
  if (family === 'a1') return true;
  const attributes = family.match(/^[a-z]+\d+([a-z]*)/)?.[1] ?? '';
  return attributes.includes('g');
}

/**
 * Users that already exist on the image, so the app user (named after the app) must not be one of
 * them: packer/scripts/20-app-user.sh would reuse the account, running the app as, say, cloud-init's
 * sudo-capable `admin`. Debian 12's base-passwd accounts, the accounts of the packages on Debian's
 * cloud image (systemd, D-Bus, OpenSSH, chrony, polkit, cloud-init's default user `admin`) and of
 * the packages 10-packages.sh installs (nginx runs as www-data).
 */
export const IMAGE_USERS: readonly string[] = [
  // base-passwd on Debian 12
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy',
  'www-data', 'backup', 'list', 'irc', '_apt', 'nobody',
  // older base-passwd, still present on upgraded images
  'gnats',
  // packages on Debian's cloud image
  'systemd-network', 'systemd-resolve', 'systemd-timesync', 'systemd-coredump', 'messagebus', 'sshd',
  '_chrony', 'polkitd', 'tcpdump', 'uuidd', '_rpc', 'statd',
  // cloud-init's default user on Debian AMIs
  'admin',
];
