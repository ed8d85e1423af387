package dev.rast.engine.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.BadInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {
    @TempDir Path tmp;

    @Test
    void oneHolderAtATimeAndTheRefusalNamesIt() throws Exception {
        Path out = tmp.resolve("out.jsonl");
        try (RunLock held = RunLock.beside(out, "rast generate", "--output")) {
            var e = assertThrows(BadInputException.class, () -> RunLock.beside(out, "rast generate", "--output"));
            assertTrue(e.getMessage().startsWith(out + " is in use by another run (pid " + ProcessHandle.current().pid() + ", started "), e.getMessage());
            assertTrue(e.getMessage().endsWith(", rast generate; lock file " + out + ".lock): wait for it to end, or use another --output"),
                    e.getMessage());
        }
        // Released: the next run takes it, and the file says who has it now.
        try (RunLock again = RunLock.inFolder(tmp, "rast eval", "--out")) {
            assertTrue(Files.readString(tmp.resolve(RunLock.IN_FOLDER)).endsWith(", rast eval\n"));
        }
        try (RunLock again = RunLock.beside(out, "rast generate", "--output")) {
            assertEquals(1, Files.readAllLines(tmp.resolve("out.jsonl.lock")).size());
        }
    }

    @Test
    void aMissingFolderIsNamed() {
        Path out = tmp.resolve("no/such/out.jsonl");
        var e = assertThrows(BadInputException.class, () -> RunLock.beside(out, "rast generate", "--output"));
        assertEquals(out + ": the folder " + tmp.resolve("no/such") + " does not exist (give --output in an existing folder)", e.getMessage());
    }
}
