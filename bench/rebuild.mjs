// The naive way to add a file to a JAR in Node: read every entry with yauzl (inflating it) and
// write a whole new archive with archiver (deflating it again), then the new entry. It is the
// baseline the splice writer exists to beat; it is not meant to be good.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { ZipArchive } from 'archiver';
import yauzl from 'yauzl';

export async function naiveRebuild(basePath, entry, out) {
  const output = createWriteStream(out);
  const archive = new ZipArchive({ zlib: { level: 6 } });
  const failed = new Promise((_, reject) => {
    archive.on('error', reject);
    output.on('error', reject);
  });
  archive.pipe(output);
  const zipfile = await yauzl.openPromise(basePath);
  try {
    for await (const item of zipfile.eachEntry()) {
      const date = item.getLastModDate();
      if (item.fileName.endsWith('/')) {
        archive.append(Buffer.alloc(0), { name: item.fileName, date });
        continue;
      }
      const stream = await zipfile.openReadStreamPromise(item);
      // One entry at a time: archiver emits 'entry' once it has written it.
      const written = once(archive, 'entry');
      archive.append(stream, { name: item.fileName, date });
      await Promise.race([written, failed]);
    }
  } finally {
    zipfile.close();
  }
  archive.append(entry.data, { name: entry.path, date: new Date(Date.UTC(2020, 0, 1)) });
  const closed = once(output, 'close');
  await Promise.race([archive.finalize(), failed]);
  await Promise.race([closed, failed]);
}
