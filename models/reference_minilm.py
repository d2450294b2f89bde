"""Reference all-MiniLM-L6-v2 sentence embeddings in plain numpy.

An independent implementation of BERT + WordPiece + mean pooling, straight
from the sentence-transformers safetensors, used once to produce the vectors
that crates/llm/tests/it/minilm_reference.json holds: the test then checks
that llama.cpp running our converted GGUF gives the same embeddings.

Usage: reference_minilm.py MODEL_DIR TEXT... (needs numpy and safetensors)
"""
import json, sys, unicodedata

import numpy as np
from safetensors.numpy import load_file

d=sys.argv[1].rstrip('/')+'/'
W=load_file(d+'model.safetensors'); tok=json.load(open(d+'tokenizer.json'))
vocab=tok['model']['vocab']
def basic(text):
    text=unicodedata.normalize('NFD',text.lower())
    text=''.join(c for c in text if unicodedata.category(c)!='Mn')
    out=[];cur=''
    for ch in text:
        if ch.isspace():
            if cur: out.append(cur); cur=''
        elif unicodedata.category(ch).startswith('P') or (33<=ord(ch)<=47 or 58<=ord(ch)<=64 or 91<=ord(ch)<=96 or 123<=ord(ch)<=126):
            if cur: out.append(cur); cur=''
            out.append(ch)
        else: cur+=ch
    if cur: out.append(cur)
    return out
def wordpiece(w):
    if len(w)>100: return [vocab['[UNK]']]
    ids=[];s=0
    while s<len(w):
        e=len(w);found=None
        while s<e:
            sub=w[s:e] if s==0 else '##'+w[s:e]
            if sub in vocab: found=vocab[sub];break
            e-=1
        if found is None: return [vocab['[UNK]']]
        ids.append(found);s=e
    return ids
def encode(t):
    ids=[101]
    for w in basic(t): ids+=wordpiece(w)
    return ids+[102]
def ln(x,g,b,eps=1e-12):
    m=x.mean(-1,keepdims=True); v=((x-m)**2).mean(-1,keepdims=True); return (x-m)/np.sqrt(v+eps)*g+b
def gelu(x):
    from math import erf
    return 0.5*x*(1+np.vectorize(erf)(x/np.sqrt(2)))
def embed(t):
    ids=np.array(encode(t)); n=len(ids)
    x=W['embeddings.word_embeddings.weight'][ids]+W['embeddings.position_embeddings.weight'][:n]+W['embeddings.token_type_embeddings.weight'][0]
    x=ln(x,W['embeddings.LayerNorm.weight'],W['embeddings.LayerNorm.bias'])
    for l in range(6):
        p=f'encoder.layer.{l}.'
        q=x@W[p+'attention.self.query.weight'].T+W[p+'attention.self.query.bias']
        k=x@W[p+'attention.self.key.weight'].T+W[p+'attention.self.key.bias']
        v=x@W[p+'attention.self.value.weight'].T+W[p+'attention.self.value.bias']
        H=12;dh=32
        q=q.reshape(n,H,dh).transpose(1,0,2);k=k.reshape(n,H,dh).transpose(1,0,2);v=v.reshape(n,H,dh).transpose(1,0,2)
        a=q@k.transpose(0,2,1)/np.sqrt(dh); a=np.exp(a-a.max(-1,keepdims=True)); a/=a.sum(-1,keepdims=True)
        o=(a@v).transpose(1,0,2).reshape(n,384)
        o=o@W[p+'attention.output.dense.weight'].T+W[p+'attention.output.dense.bias']
        x=ln(x+o,W[p+'attention.output.LayerNorm.weight'],W[p+'attention.output.LayerNorm.bias'])
        h=gelu(x@W[p+'intermediate.dense.weight'].T+W[p+'intermediate.dense.bias'])
        h=h@W[p+'output.dense.weight'].T+W[p+'output.dense.bias']
        x=ln(x+h,W[p+'output.LayerNorm.weight'],W[p+'output.LayerNorm.bias'])
    e=x.mean(0); return e/np.linalg.norm(e), ids
texts=sys.argv[2:]
for t in texts:
    e,ids=embed(t)
    print(json.dumps({"text":t,"ids":ids.tolist(),"vec":[round(float(v),6) for v in e]}))
