import "@xyflow/react/dist/style.css";
import "./styles.css";
import "./presentation.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { exposeForTests } from "./testing";

exposeForTests();
const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
