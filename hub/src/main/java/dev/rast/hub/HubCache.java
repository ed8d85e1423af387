package dev.rast.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;

/**
 * huggingface_hub's cache layout, read and written the same way so that either client reuses what the other
 * downloaded:
 * <pre>
 * ROOT/models--ORG--NAME/
 *   blobs/ETAG                       file contents, named by the etag (SHA-256 for LFS files, git SHA-1 otherwise)
 *   blobs/ETAG.incomplete            a download in progress, resumed from its length
 *   snapshots/COMMIT/FILE            relative symbolic links to ../../blobs/ETAG (one more ../ per subfolder)
 *   refs/REVISION                    the commit a branch or tag named when it was downloaded
 * ROOT/.locks/models--ORG--NAME/ETAG.lock
 * </pre>
 */
public final class HubCache {
    private final Path root;

    public HubCache(Path root) { this.root = root.toAbsolutePath().normalize(); }

    public Path root() { return root; }

    Path repoDir(RepoId repo) { return root.resolve(repo.cacheFolderName()); }

    public Path snapshot(RepoId repo, String commit) { return repoDir(repo).resolve("snapshots").resolve(commit); }

    Path blob(RepoId repo, String etag) { return repoDir(repo).resolve("blobs").resolve(etag); }

    Path incomplete(RepoId repo, String etag) { return repoDir(repo).resolve("blobs").resolve(etag + ".incomplete"); }

    Path lock(RepoId repo, String etag) { return root.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock"); }

    /** The commit {@code spec} names without asking the Hub: itself if a commit hash, else what its ref file says. */
    public Optional<String> commitOf(ModelSpec spec) {
        if (spec.pinned()) return Optional.of(spec.revision());
        Path ref = refFile(spec);
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            return ModelSpec.isCommit(commit) ? Optional.of(commit) : Optional.empty();
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new HubException("cannot read " + ref + " (" + e.getMessage() + ")");
        }
    }

    /** Records that {@code spec}'s revision is {@code commit}, atomically (a reader never sees half a hash). */
    void writeRef(ModelSpec spec, String commit) throws IOException {
        if (spec.revision().equals(commit)) return;
        Path ref = refFile(spec);
        Files.createDirectories(ref.getParent());
        Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8) + ".tmp");
        Files.writeString(tmp, commit, StandardCharsets.UTF_8);
        move(tmp, ref);
    }

    private Path refFile(ModelSpec spec) {
        Path refs = repoDir(spec.repo()).resolve("refs");
        Path ref = refs.resolve(spec.revision()).normalize();
        if (!ref.startsWith(refs)) throw new HubException("revision '" + spec.revision() + "' is not usable as a ref name");
        return ref;
    }

    /**
     * Points {@code snapshots/COMMIT/FILE} at the blob with a relative link, replacing what was there; where the file
     * system has no symbolic links, a copy of the blob instead (as huggingface_hub does).
     */
    void link(RepoId repo, String commit, String file, String etag) throws IOException {
        Path snapshot = snapshot(repo, commit);
        Path pointer = RepoPath.under(snapshot, repo, file);
        Path blob = blob(repo, etag);
        Files.createDirectories(pointer.getParent());
        Files.deleteIfExists(pointer);
        try {
            Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
        } catch (UnsupportedOperationException | FileSystemException e) {
            Files.copy(blob, pointer, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Whether the snapshot has {@code file}, following its link: a link to a missing blob does not count. */
    boolean has(RepoId repo, String commit, String file) {
        return Files.isRegularFile(RepoPath.under(snapshot(repo, commit), repo, file));
    }

    /** Tags the cache folder as one (https://bford.info/cachedir/) so backup tools skip it, as huggingface_hub does. */
    void tagCacheDir() {
        Path tag = root.resolve("CACHEDIR.TAG");
        if (Files.exists(tag)) return;
        try {
            Files.writeString(tag, "Signature: 8a477f597d28d172789f06886806bc55\n"
                    + "# This file is a cache directory tag created by rast (Hugging Face Hub cache).\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            // a tag is a courtesy to backup tools; the cache works without it
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
