// What `describe` is answered with: one `handle` program (text in, text out) with the served model.
// Home Assistant reads it with the wyoming library's dataclasses, which need every artifact field
// (name, attribution, installed, description, version) and a model's languages; its conversation agent
// takes the program's name, and an empty language list would mean "every language".
import { VERSION } from '../../version.js';

export interface HandleInfoSettings {
  /** The conversation agent's name in Home Assistant. */
  programName: string;
  modelName: string;
  /** The model's parameters and the file it runs from, for the description. */
  modelDescription: string;
  languages: string[];
}

const BITNETD = { name: 'bitnetd', url: '' }; // no public home yet; the field is required, may be empty
const MICROSOFT = { name: 'Microsoft', url: 'https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf' };

export function handleInfo(s: HandleInfoSettings): Record<string, unknown> {
  return {
    asr: [],
    tts: [],
    handle: [
      {
        name: s.programName,
        attribution: BITNETD,
        installed: true,
        description: 'A 1-bit LLM (BitNet b1.58) answering on this machine\'s CPU',
        version: VERSION,
        models: [{ name: s.modelName, attribution: MICROSOFT, installed: true, description: s.modelDescription, version: null, languages: s.languages }],
        supports_handled_streaming: true,
        // Answers are text: it turns nothing on or off (HA's Ollama integration is the door with tools).
        supports_home_control: false,
      },
    ],
    intent: [],
    wake: [],
    mic: [],
    snd: [],
  };
}
