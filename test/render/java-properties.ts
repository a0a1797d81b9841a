import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Reads .properties files with the real `java.util.Properties.load(InputStream)` (ISO-8859-1,
 * the strictest way a Java agent may read them) and prints every key and value as JSON with
 * each character written as \uXXXX, so nothing is lost between Java and the test.
 */
const source = `
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeSet;

public class ReadProperties {
  public static void main(String[] args) throws Exception {
    StringBuilder out = new StringBuilder("[");
    for (int f = 0; f < args.length; f++) {
      Properties properties = new Properties();
      try (InputStream in = Files.newInputStream(Path.of(args[f]))) {
        properties.load(in);
      }
      out.append(f == 0 ? "{" : ",{");
      boolean first = true;
      for (String key : new TreeSet<>(properties.stringPropertyNames())) {
        out.append(first ? "" : ",").append(quote(key)).append(':').append(quote(properties.getProperty(key)));
        first = false;
      }
      out.append('}');
    }
    System.out.print(out.append(']'));
  }

  static String quote(String text) {
    StringBuilder out = new StringBuilder("\\"");
    for (int i = 0; i < text.length(); i++) out.append(String.format("\\\\u%04x", (int) text.charAt(i)));
    return out.append('"').toString();
  }
}
`;

/** Each file's properties as Java read them, in the order the files were given. */
export async function readWithJava(dir: string, files: string[]): Promise<Array<Record<string, string>>> {
  const program = join(dir, 'ReadProperties.java');
  await writeFile(program, source);
  const { stdout } = await promisify(execFile)('java', [program, ...files], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as Array<Record<string, string>>;
}
