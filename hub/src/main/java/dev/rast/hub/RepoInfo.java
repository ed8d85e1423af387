package dev.rast.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A repository at a revision, from {@code GET /api/models/ORG/NAME/revision/REV}: the commit it resolves to
 * ({@code sha}) and its files ({@code siblings[].rfilename}), each checked to be a path inside the repository.
 */
record RepoInfo(String sha, List<String> files) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static RepoInfo parse(RepoId repo, byte[] body) {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            throw new HubException("the Hub's answer about " + repo + " is not JSON (" + e.getMessage().lines().findFirst().orElse("") + "); is HF_ENDPOINT a Hub?");
        }
        String sha = root == null ? null : root.path("sha").asText(null);
        if (!ModelSpec.isCommit(sha))
            throw new HubException("the Hub's answer about " + repo + " has no commit hash ('sha'); is HF_ENDPOINT a Hub?");
        JsonNode siblings = root.path("siblings");
        if (!siblings.isArray()) throw new HubException("the Hub's answer about " + repo + " has no file list ('siblings')");
        List<String> files = new ArrayList<>();
        for (JsonNode s : siblings) {
            String f = s.path("rfilename").asText(null);
            files.add(RepoPath.checkFile(repo, f));
        }
        return new RepoInfo(sha, files);
    }
}
