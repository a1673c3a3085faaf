// What a rehearsal instance runs is what the AMI bakes: packer/files' nginx site, gunicorn config and
// systemd unit. Only the listen address, socket path, log paths and file roots are rewritten, each
// by an exact literal so that a changed AMI file fails loudly here instead of drifting (the static
// files' alias, there only for an app with a static step, by its `alias /opt/` prefix). Pure.

/** Where one instance keeps what an EC2 instance keeps under /. */
export interface InstancePaths {
  /** The instance's root: etc/aws/ipv4, run/greenlight, var/log/nginx live below it. */
  readonly root: string;
  /** The release image's root: opt/<app>/current and etc/greenlight below it. */
  readonly image: string;
  /** `127.0.1.N`. */
  readonly address: string;
  readonly port: number;
  /** gunicorn's unix socket. */
  readonly socketPath: string;
}

/** Replaces `from` in every line that is not a comment, failing when no such line has it. */
function replaceLiteral(text: string, from: string, to: string, file: string): string {
  let found = false;
  const lines = text.split('\n').map((line) => {
    if (line.trim().startsWith('#') || !line.includes(from)) return line;
    found = true;
    return line.split(from).join(to);
  });
  if (!found) {
    throw new Error(`${file}: expected the line "${from}" to rewrite; the AMI file changed, update the rehearsal with it`);
  }
  return lines.join('\n');
}

/** packer/files/nginx-site.conf for one instance. */
export function renderSite(site: string, paths: InstancePaths): string {
  const file = 'packer/files/nginx-site.conf';
  const rewrites: Array<[string, string]> = [
    ['listen 80 default_server;', `listen ${paths.address}:${paths.port} default_server;`],
    ['proxy_pass http://unix:/run/greenlight/gunicorn.sock:;', `proxy_pass http://unix:${paths.socketPath}:;`],
    ['access_log /var/log/nginx/greenlight-access.log;', `access_log ${paths.root}/var/log/nginx/greenlight-access.log;`],
    ['access_log /var/log/nginx/greenlight-health.log;', `access_log ${paths.root}/var/log/nginx/greenlight-health.log;`],
    ['error_log /var/log/nginx/greenlight-error.log;', `error_log ${paths.root}/var/log/nginx/greenlight-error.log;`],
    ['include /etc/greenlight/nginx/tls.conf;', `include ${paths.root}/etc/greenlight/nginx/tls.conf;`],
  ];
  const rewritten = rewrites.reduce((text, [from, to]) => replaceLiteral(text, from, to, file), site);
  // The release's STATIC_ROOT, present only when the app has a static step: in the image.
  const out = rewritten.split('\n').map((line) => (line.trim().startsWith('alias /opt/') ? line.replace('alias /opt/', `alias ${paths.image}/opt/`) : line)).join('\n');
  // Only comment lines may still name the AMI's paths after the rewrite.
  const leftover = out
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .find((line) => /\s\/(run|var\/log|etc\/greenlight|opt)\//.test(line) || /listen 80\b/.test(line));
  if (leftover) throw new Error(`${file}: line "${leftover.trim()}" names an AMI path the rehearsal does not rewrite`);
  return out;
}

/**
 * The instance's nginx.conf: Debian's http defaults around the one site, with the instance's own pid
 * file, logs and temp paths so that several instances run side by side.
 */
export function renderNginxMain(paths: InstancePaths, sitePath: string, user: string | undefined): string {
  const lib = `${paths.root}/var/lib/nginx`;
  return [
    ...(user ? [`user ${user};`] : []),
    'worker_processes 1;',
    `pid ${paths.root}/run/nginx.pid;`,
    `error_log ${paths.root}/var/log/nginx/error.log;`,
    '',
    'events {',
    '  worker_connections 512;',
    '}',
    '',
    'http {',
    '  sendfile on;',
    '  tcp_nopush on;',
    '  types_hash_max_size 2048;',
    '  include /etc/nginx/mime.types;',
    '  default_type application/octet-stream;',
    `  access_log ${paths.root}/var/log/nginx/access.log;`,
    `  client_body_temp_path ${lib}/body;`,
    `  proxy_temp_path ${lib}/proxy;`,
    `  fastcgi_temp_path ${lib}/fastcgi;`,
    `  uwsgi_temp_path ${lib}/uwsgi;`,
    `  scgi_temp_path ${lib}/scgi;`,
    `  include ${sitePath};`,
    '}',
    '',
  ].join('\n');
}

/** The app service as the systemd unit describes it. */
export interface ServiceCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

/** Rewrites an absolute AMI path to the image or the instance root. */
function rewritePath(path: string, app: string, paths: InstancePaths): string {
  const p = path.split('@APP@').join(app);
  if (p.startsWith('/opt/') || p.startsWith('/etc/greenlight/gunicorn.conf.py')) return `${paths.image}${p}`;
  if (p.startsWith('/etc/') || p.startsWith('/run/')) return `${paths.root}${p}`;
  return p;
}

/**
 * packer/files/greenlight-app.service's ExecStart, WorkingDirectory and Environment for one
 * instance, plus `--bind` to the instance's socket (the override gunicorn.conf.py documents).
 */
export function gunicornCommand(unit: string, app: string, paths: InstancePaths): ServiceCommand {
  const file = 'packer/files/greenlight-app.service';
  const values = (key: string) =>
    unit
      .split('\n')
      .filter((line) => line.startsWith(`${key}=`))
      .map((line) => line.slice(key.length + 1).trim());
  const [execStart] = values('ExecStart');
  const [workingDirectory] = values('WorkingDirectory');
  if (!execStart || !workingDirectory) throw new Error(`${file}: expected ExecStart= and WorkingDirectory= lines`);
  if (/["'$;|&]/.test(execStart)) throw new Error(`${file}: ExecStart "${execStart}" needs a shell; the rehearsal runs plain commands`);
  const [command, ...args] = execStart.split(/\s+/).map((word) => (word.startsWith('/') ? rewritePath(word, app, paths) : word));
  if (!args.includes('gunicorn')) throw new Error(`${file}: ExecStart "${execStart}" does not run gunicorn`);
  const env: Record<string, string> = {};
  for (const assignment of values('Environment')) {
    const [name, ...rest] = assignment.split('=');
    const value = rest.join('=');
    env[name] = value.startsWith('/') ? rewritePath(value, app, paths) : value;
  }
  // Before the WSGI application argument; the command line overrides the config file's `bind`.
  const bound = [...args.slice(0, -1), '--bind', `unix:${paths.socketPath}`, ...args.slice(-1)];
  return { command, args: bound, cwd: rewritePath(workingDirectory, app, paths), env };
}
