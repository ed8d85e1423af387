package dev.rast.tests;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Another process holding a run's lock, as a second rast run does: {@code LockHolder FILE TEXT} takes an exclusive OS
 * lock on FILE, writes TEXT into it (who holds it), prints "locked" and holds on until its standard input closes.
 */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
             FileLock lock = ch.lock()) {
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(args[1].getBytes(StandardCharsets.UTF_8)), 0);
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) { }
        }
    }

    /** A started holder of {@code file}'s lock; closing it ends the process and so releases the lock. */
    static final class Running implements AutoCloseable {
        private final Process process;

        Running(Path file, String text) throws java.io.IOException {
            process = new ProcessBuilder(ChildJvm.command(LockHolder.class, file.toString(), text))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String first = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (!"locked".equals(first)) throw new IllegalStateException("the lock holder did not start: " + first);
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }
}
