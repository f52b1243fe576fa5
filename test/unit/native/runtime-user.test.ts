import { parseGroup, parsePasswd, resolveUserFrom } from '../../../engine/runtime/user.js';

const passwd = parsePasswd(
  'root:x:0:0:root:/root:/bin/sh\n# comment\nbroken line\napp:x:1000:1000::/home/app:/bin/sh\n',
);
const groups = parseGroup('root:x:0:\naudio:x:29:app,other\nstaff:x:50:app\napp:x:1000:\n');

describe('resolveUserFrom', () => {
  it('resolves names and ids like dockerd, with supplementary groups from /etc/group', () => {
    expect(resolveUserFrom('', [], passwd, groups)).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [0],
      home: '/root',
    });
    expect(resolveUserFrom('app', [], passwd, groups)).toEqual({
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 29, 50],
      home: '/home/app',
    });
    expect(resolveUserFrom('app:staff', ['root', '7'], passwd, groups).additionalGids).toEqual([
      50, 29, 0, 7,
    ]);
    expect(resolveUserFrom('4242:4343', [], passwd, groups)).toEqual({
      uid: 4242,
      gid: 4343,
      additionalGids: [4343],
      home: '/',
    });
  });

  it('names the missing user or group like dockerd', () => {
    expect(() => resolveUserFrom('ghost', [], passwd, groups)).toThrow(
      'unable to find user ghost: no matching entries in passwd file',
    );
    expect(() => resolveUserFrom('app:ghosts', [], passwd, groups)).toThrow(
      'unable to find group ghosts: no matching entries in group file',
    );
  });
});
