package dev.rast.hub;

import dev.rast.engine.BadInputException;
import dev.rast.engine.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A repository at a revision, from {@code GET /api/models/ORG/NAME/revision/REV}: the commit it resolves to
 * ({@code sha}) and its files ({@code siblings[].rfilename}), each checked to be a path inside the repository.
 */
record RepoInfo(String sha, List<String> files) {
    static RepoInfo parse(RepoId repo, byte[] body) {
        Object root;
        try {
            root = Json.parse(body, "the Hub's answer about " + repo);
        } catch (BadInputException e) {
            throw new HubException(e.getMessage() + "; is HF_ENDPOINT a Hub?");
        }
        Map<?, ?> fields = root instanceof Map<?, ?> m ? m : Map.of();
        String sha = fields.get("sha") instanceof String s ? s : null;
        if (!ModelSpec.isCommit(sha))
            throw new HubException("the Hub's answer about " + repo + " has no commit hash ('sha'); is HF_ENDPOINT a Hub?");
        if (!(fields.get("siblings") instanceof List<?> siblings))
            throw new HubException("the Hub's answer about " + repo + " has no file list ('siblings')");
        List<String> files = new ArrayList<>();
        for (Object sibling : siblings) {
            String f = sibling instanceof Map<?, ?> m && m.get("rfilename") instanceof String name ? name : null;
            files.add(RepoPath.checkFile(repo, f));
        }
        return new RepoInfo(sha, files);
    }
}
