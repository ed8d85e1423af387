package dev.rast.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Repository names, revisions, file paths and globs: what is a model name, what is a path, what is refused. */
class NamesTest {
    @Test
    void modelSpecs() {
        ModelSpec s = ModelSpec.parse("Qwen/Qwen2.5-0.5B").orElseThrow();
        assertEquals("Qwen", s.repo().org());
        assertEquals("main", s.revision());
        assertEquals("models--Qwen--Qwen2.5-0.5B", s.repo().cacheFolderName());
        assertEquals("refs/pr/1", ModelSpec.parse("meta-llama/Llama-3.1-8B@refs/pr/1").orElseThrow().revision());
        assertTrue(ModelSpec.parse("a/b@0123456789abcdef0123456789abcdef01234567").orElseThrow().pinned());
        for (String path : new String[] {"x", "/abs/dir", "models/a/b", "./a", "a/.b", "a--b/c", "a/b..c", "a/", "../a"})
            assertTrue(ModelSpec.parse(path).isEmpty(), path + " is a path, not a repository");
        for (String bad : new String[] {"a/b@", "a/b@../x", "a/b@x//y", "a/b@/x"})
            assertThrows(HubException.class, () -> ModelSpec.parse(bad), bad);
    }

    @Test
    void filePathsFromTheServerStayInside() {
        RepoId r = new RepoId("o", "n");
        assertEquals("a/b.json", RepoPath.checkFile(r, "a/b.json"));
        for (String bad : new String[] {"../x", "a/../../x", "/etc/passwd", "a\\..\\x", "C:x", "a//b", "./a", "a/", ""})
            assertThrows(HubException.class, () -> RepoPath.checkFile(r, bad), bad);
        assertThrows(HubException.class, () -> RepoPath.checkEtag(r, "f", "../../x"));
    }

    @Test
    void globsReadAsFnmatch() {
        assertTrue(new Glob("*.json").matches("config.json"));
        assertTrue(new Glob("*.json").matches("sub/config.json"), "fnmatch's * crosses '/'");
        assertTrue(new Glob("model-0000[1-2]*").matches("model-00002-of-00004.safetensors"));
        assertFalse(new Glob("model-0000[!1-2]*").matches("model-00002-of-00004.safetensors"));
        assertTrue(new Glob("onnx/").matches("onnx/model.onnx"));
        assertTrue(new Glob("a?c").matches("abc"));
        assertFalse(new Glob("a.c").matches("abc"), "'.' is literal");
    }

    @Test
    void theEngineSelection() {
        FileSelection e = FileSelection.engine();
        for (String f : new String[] {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "model.safetensors", "model-00001-of-00004.safetensors", "model.safetensors.index.json", "chat_template.jinja"})
            assertTrue(e.wants(f), f);
        for (String f : new String[] {"pytorch_model.bin", "README.md", "original/consolidated.00.pth", "original/params.json", ".gitattributes"})
            assertFalse(e.wants(f), f);
        assertFalse(FileSelection.of(java.util.List.of("*")).wants("pytorch_model.bin"), "pickled never, whatever the globs");
    }
}
