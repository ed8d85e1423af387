package dev.rast.engine.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir Path tmp;

    @Test
    void replacesTheWholeFile() throws IOException {
        Path f = tmp.resolve("sub/settings.json");
        AtomicFiles.write(f, "{\"n\": 1}\n", AtomicFiles.Durability.SYNCED);
        assertEquals("{\"n\": 1}\n", Files.readString(f));
        AtomicFiles.write(f, "{}", AtomicFiles.Durability.RENAMED);
        assertEquals("{}", Files.readString(f));
        assertEquals(List.of(f), list(f.getParent()), "no temporary file left");
    }

    @Test
    void aWriteThatFailsHalfWayLeavesTheOldFile() throws IOException {
        Path f = tmp.resolve("report.md");
        Files.writeString(f, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, ch -> {
            ch.write(ByteBuffer.wrap("half of the new".getBytes()));
            throw new IOException("No space left on device");
        }, AtomicFiles.Durability.SYNCED));
        assertEquals("No space left on device", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of(f), list(tmp), "the temporary file is removed");
        // No file before: still none after.
        Path g = tmp.resolve("new.json");
        assertThrows(IOException.class, () -> AtomicFiles.write(g, ch -> { throw new IOException("disk full"); }, AtomicFiles.Durability.RENAMED));
        assertFalse(Files.exists(g));
    }

    @Test
    void aFolderInThePlaceOfTheFileIsAnErrorAndIsKept() throws IOException {
        Path f = tmp.resolve("report.md");
        Files.createDirectories(f);
        assertThrows(IOException.class, () -> AtomicFiles.write(f, "x", AtomicFiles.Durability.RENAMED));
        assertEquals(true, Files.isDirectory(f));
        assertEquals(List.of(f), list(tmp));
    }

    @Test
    void newFilesGetTheUsualPermissionsNotOwnerOnly() throws IOException {
        Path plain = tmp.resolve("plain"), atomic = tmp.resolve("atomic");
        Files.writeString(plain, "x");
        AtomicFiles.write(atomic, "x", AtomicFiles.Durability.RENAMED);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(atomic));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
