// The bar under the toolbar for a graph opened from a share link: read-only until "make my copy";
// then the student's copy, with "reset to the original".
import { makeMyCopy, resetToOriginal } from "../actions/share";
import { useShare } from "../store/shareStore";
import "./exercise.css";

export function ShareBar() {
  const shared = useShare((s) => s.original !== null);
  const viewing = useShare((s) => s.viewing);
  if (!shared) return null;
  return (
    <div className={`share-bar${viewing ? " viewing" : ""}`} data-testid="share-bar" data-viewing={viewing}>
      {viewing ? (
        <>
          <span>
            <b>A shared graph, read-only.</b> Run it and look; to change it, make your own copy.
          </span>
          <button type="button" className="primary" data-testid="make-copy" onClick={makeMyCopy}>
            Make my copy
          </button>
        </>
      ) : (
        <>
          <span>Your copy of a shared graph, saved in this browser.</span>
          <button type="button" data-testid="reset-original" onClick={resetToOriginal}>
            Reset to the original
          </button>
        </>
      )}
    </div>
  );
}
