"""The browser chat (Gradio) and the JSON API mounted beside it, in one server.

`ui` calls `rag`, never the reverse. Importing `ui` turns off the network calls Gradio and
huggingface_hub make on their own (usage analytics, version checks, telemetry): the app must
work offline and must not report what people ask. This runs before any `ui` module imports
gradio, because gradio reads these variables at import time. The values are forced, not
defaulted: nothing in this project wants analytics.
"""

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
