"""The reference services' specs as the benchmarks use them: without generated negative cases, which the
shipped specs turn on, so a benchmark measures exactly the cases it writes."""

CHAT_SPEC = """\
service: studycompanion
qa: {path: /studycompanion/chat/qa, delivery: sync, auth: qa_token,
     output: {text: /reply, sources: /sources, metadata: {model_version: /model_version}}}
prod: {path: /studycompanion/chat/stream, delivery: sse,
       output: {sources: /sources, metadata: {model_version: /model_version}}}
conversation: {id_field: conversation_id}
"""

EXAM_SPEC = """\
service: examgenerator
qa: {path: /examgenerator/create/qa, delivery: sync, auth: qa_token,
     output: {text: /text, metadata: {model_version: /model_version}}}
prod: {path: /examgenerator/create, delivery: callback,
       output: {text: /text, metadata: {model_version: /model_version}}}
"""
