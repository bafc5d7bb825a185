// The staff pages' confirmation dialog (static/js/lib/confirm.js), on the pages that include
// templates/workspace/_confirm_dialog.html. A module: it runs once the page is parsed.
import { installConfirmations } from "./lib/confirm.js";

installConfirmations(document.getElementById("confirm-dialog"));
