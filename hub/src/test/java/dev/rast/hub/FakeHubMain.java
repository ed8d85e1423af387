package dev.rast.hub;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The fake Hub as a program, for scripts/hub-check.py (huggingface_hub against the same server as rast) and for
 * trying `rast pull` by hand. Serves each {@code --repo ORG/NAME=DIR} (every file under DIR), plus a README.md,
 * a .gitattributes and a pickled pytorch_model.bin that rast must not download; prints {@code endpoint=URL} and
 * serves until its standard input closes.
 * <pre>java -cp ... dev.rast.hub.FakeHubMain --repo test-org/tiny=/tmp/tiny [--gated TOKEN]</pre>
 */
public final class FakeHubMain {
    private FakeHubMain() {}

    public static void main(String[] args) throws Exception {
        try (FakeHub hub = new FakeHub()) {
            String gated = null;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--repo" -> {
                        String[] kv = args[++i].split("=", 2);
                        hub.repoFromFolder(kv[0], Path.of(kv[1]))
                                .file("README.md", ("# " + kv[0] + "\nServed by rast's fake Hub.\n").getBytes(StandardCharsets.UTF_8))
                                .file(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n".getBytes(StandardCharsets.UTF_8))
                                .file("pytorch_model.bin", new byte[] {(byte) 0x80, 0x02, '}', 'q', 0, '.'});
                    }
                    case "--gated" -> gated = args[++i];
                    default -> throw new IllegalArgumentException("usage: FakeHubMain --repo ORG/NAME=DIR ... [--gated TOKEN]");
                }
            }
            if (gated != null) for (String id : hub.repoIds()) hub.repo(id).gated(gated);
            System.out.println("endpoint=" + hub.endpoint());
            System.out.flush();
            while (System.in.read() >= 0) {
                // serve until stdin closes
            }
        }
    }
}
