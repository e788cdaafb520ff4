"""The request side of Google's GenerateContent wire format, as typed dicts.

Shared by the Gemini API (AI Studio) and Vertex AI: both take the same
``GenerateContentRequest`` JSON (camelCase field names), only the URL and the
credentials differ. Responses are untrusted JSON and are read defensively in
``response.py`` instead.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

GeminiRole = Literal["user", "model"]
CallingMode = Literal["AUTO", "ANY", "NONE"]


class InlineData(TypedDict):
    mimeType: str
    data: str  # base64


class FileData(TypedDict):
    mimeType: str
    fileUri: str


class FunctionCall(TypedDict):
    name: str
    args: dict[str, Any]


class FunctionResponse(TypedDict):
    name: str
    response: dict[str, Any]


class Part(TypedDict, total=False):
    text: str
    inlineData: InlineData
    fileData: FileData
    functionCall: FunctionCall
    functionResponse: FunctionResponse
    thoughtSignature: str


class Content(TypedDict):
    role: GeminiRole
    parts: list[Part]


class SystemInstruction(TypedDict):
    parts: list[Part]


class FunctionDeclaration(TypedDict, total=False):
    name: str
    description: str
    parametersJsonSchema: dict[str, Any]


class Tool(TypedDict):
    functionDeclarations: list[FunctionDeclaration]


class FunctionCallingConfig(TypedDict, total=False):
    mode: CallingMode
    allowedFunctionNames: list[str]


class ToolConfig(TypedDict):
    functionCallingConfig: FunctionCallingConfig


class ThinkingConfig(TypedDict, total=False):
    thinkingBudget: int
    thinkingLevel: str
    includeThoughts: bool


class GenerationConfig(TypedDict, total=False):
    temperature: float
    topP: float
    maxOutputTokens: int
    stopSequences: list[str]
    seed: int
    responseMimeType: str
    responseJsonSchema: dict[str, Any]
    thinkingConfig: ThinkingConfig


class GenerateContentRequest(TypedDict, total=False):
    contents: list[Content]
    systemInstruction: SystemInstruction
    tools: list[Tool]
    toolConfig: ToolConfig
    generationConfig: GenerationConfig
    safetySettings: list[Any]
