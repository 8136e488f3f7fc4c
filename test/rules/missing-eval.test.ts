import { runRuleTests, py } from "../helpers/rule-tester.js";
import rule from "../../rules/missing-eval.js";

const model = py`
  import torch
  import torch.nn as nn

  class Net(nn.Module):
      def __init__(self):
          super().__init__()
          self.fc = nn.Linear(4, 8)
          self.bn = nn.BatchNorm1d(8)

      def forward(self, x):
          return self.bn(self.fc(x)).relu()
` + "\n";

runRuleTests(rule, {
  valid: [
    { name: "the model switched to eval mode after the feature extractor was cut from it (they share the modules)", code: py`
      import torch
      import torchvision
      model_ft = torchvision.models.resnet18(weights="IMAGENET1K_V1")
      feature_extractor = torch.nn.Sequential(*list(model_ft.children())[:-1])
      model_ft.eval()
      print(feature_extractor(torch.randn(1, 3, 224, 224)))
    ` },
    { name: "a pretrained model whose output only has its size read (a shape smoke test)", code: py`
      import timm
      import torch
      x = torch.randn(1, 3, 224, 224)
      model = timm.create_model("resnet50", pretrained=True)
      out = model(x)
      print(out.shape, out.size(1))
      print(model(x).shape)
    ` },
    { name: "timm models without BatchNorm (ViT, ConvNeXt: LayerNorm), and one put in eval mode", code: py`
      import timm
      import torch
      vit = timm.create_model("vit_base_patch16_224", pretrained=True)
      convnext = timm.create_model("convnext_tiny", pretrained=True)
      resnet = timm.create_model("resnet18", pretrained=True).eval()
      with torch.no_grad():
          x = torch.randn(2, 3, 224, 224)
          print(vit(x), convnext(x), resnet(x))
    ` },
    { name: "held-out data in the block that trains on it (fine-tuning on the validation set)", code: model + py`
      net = Net()
      opt = torch.optim.Adam(net.parameters())
      for x, y in train_loader:
          opt.zero_grad()
          net(x).sum().backward()
          opt.step()
      for epoch in range(3):
          loss = nn.functional.cross_entropy(net(val_data), val_target)
          opt.zero_grad()
          loss.backward()
          opt.step()
    ` },
    { name: "held-out data after .eval() in the training loop", code: model + py`
      net = Net()
      opt = torch.optim.Adam(net.parameters())
      for step, (x, y) in enumerate(train_loader):
          net.train()
          opt.zero_grad()
          net(x).sum().backward()
          opt.step()
          if step % 50 == 0:
              net.eval()
              pred = net(val_data)
    ` },
    { name: "a builder whose load is under `if pretrained:` (default False), smoke-tested with the default", code: py`
      import torch
      import torch.nn as nn
      class Net(nn.Module):
          def __init__(self):
              super().__init__()
              self.conv = nn.Conv2d(3, 8, 3)
              self.bn = nn.BatchNorm2d(8)
          def forward(self, x):
              return self.bn(self.conv(x))
      def get_net(pretrained=False, path="net.pth"):
          model = Net()
          if pretrained:
              model.load_state_dict(torch.load(path))
          return model
      if __name__ == "__main__":
          model = get_net()
          with torch.no_grad():
              print(model(torch.randn(2, 3, 32, 32)).shape)
    ` },
    { name: "a torchvision builder with another norm_layer (FrozenBatchNorm2d) keeps no running statistics", code: py`
      import torch
      from torchvision import models
      from torchvision.ops import FrozenBatchNorm2d
      model = models.resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
      model.load_state_dict(torch.load("frozen.pth"))
      with torch.no_grad():
          out = model(torch.randn(1, 3, 224, 224))
    ` },
    { name: "`model.backbone.eval()` on the part that holds the BatchNorms: the model's mode is not known", code: py`
      import torch
      import torch.nn as nn
      from torchvision import models
      class Classifier(nn.Module):
          def __init__(self):
              super().__init__()
              self.backbone = models.resnet18(weights=None)
              self.head = nn.Linear(1000, 10)
          def forward(self, x):
              return self.head(self.backbone(x))
      def predict(x):
          model = Classifier()
          model.load_state_dict(torch.load("clf.pth"))
          model.backbone.eval()
          with torch.no_grad():
              return model(x).argmax(1)
    ` },
    { name: "a forward pass whose output nobody reads re-estimates the running statistics (AdaBN), then eval", code: py`
      import torch
      import torchvision
      model = torchvision.models.resnet18(weights="IMAGENET1K_V1")
      model.train()
      with torch.no_grad():
          for x, _ in target_loader:
              model(x)
      model.eval()
      with torch.no_grad():
          for x, y in target_loader:
              print(model(x).argmax(1))
    ` },
    { name: "`torch.jit.trace` after `.eval()`; `torch.onnx.export` with the exporter that switches to eval mode itself", code: py`
      import torch
      import torchvision
      model = torchvision.models.resnet18(weights="IMAGENET1K_V1")
      dummy = torch.randn(1, 3, 224, 224)
      torch.onnx.export(model, dummy, "resnet18.onnx", dynamo=False)
      torch.onnx.export(model, dummy, "resnet18.onnx", training=torch.onnx.TrainingMode.EVAL)
      model.eval()
      torch.jit.trace(model, dummy).save("resnet18.pt")
      torch.onnx.export(model, dummy, "resnet18.onnx")
    ` },
    { name: "`torch.jit.trace` of a model with nothing learned (a smoke test at the foot of a model file)", code: model + py`
      if __name__ == "__main__":
          traced = torch.jit.trace(Net(), torch.randn(2, 4))
          net = Net()
          print(torch.jit.trace(net, torch.randn(2, 4)).graph)
    ` },
    { name: "a loop over validation data after model.eval(), in an epoch loop that calls model.train()", code: model + py`
      net = Net()
      opt = torch.optim.SGD(net.parameters(), lr=0.1)
      for epoch in range(3):
          net.train()
          for x, y in train_loader:
              opt.zero_grad()
              net(x).sum().backward()
              opt.step()
          net.eval()
          for x, y in val_loader:
              print(net(x).argmax(1))
    ` },
    { name: "a loop over validation data that trains on it (fine-tuning)", code: model + py`
      net = Net()
      opt = torch.optim.SGD(net.parameters(), lr=0.1)
      for x, y in train_loader:
          opt.zero_grad()
          net(x).sum().backward()
          opt.step()
      for x, y in val_loader:
          opt.zero_grad()
          net(x).sum().backward()
          opt.step()
    ` },
    { name: "a loop over test data before anything was trained or loaded", code: model + py`
      net = Net()
      for x, y in test_loader:
          print(net(x).shape)
    ` },
    { name: "test-time BatchNorm adaptation named as such (AdaBN)", code: model + py`
      def test_adabn(net, loader):
          net.train()
          with torch.no_grad():
              return [net(x) for x in loader]

      net = Net()
      net.load_state_dict(torch.load("source.pt"))
      test_adabn(net, [])
    ` },
    // kuangliu/pytorch-cifar and many model zoos end each model file with this: a fresh, untrained model.
    { name: "a shape smoke test that builds its own model and neither trains nor loads it", code: model + py`
      def test():
          net = Net()
          y = net(torch.randn(2, 4))
          print(y.size())

      if __name__ == "__main__":
          test()
    ` },
    { name: "BatchNorm without running statistics behaves the same in both modes", code: model.replace("nn.BatchNorm1d(8)", "nn.BatchNorm1d(8, track_running_stats=False)") + py`
      net = Net()
      net.train()
      with torch.no_grad():
          print(net(torch.randn(2, 4)))
    ` },
    { name: "the same, with track_running_stats=False given by position", code: model.replace("nn.BatchNorm1d(8)", "nn.BatchNorm1d(8, 1e-5, 0.1, True, False)") + py`
      def test(net, x):
          return net(x)

      test(Net(), torch.randn(2, 4))
    ` },
    { name: "eval() before the no_grad block", code: model + py`
      net = Net()
      opt = torch.optim.SGD(net.parameters(), lr=0.1)
      for x in range(3):
          opt.zero_grad()
          net(torch.randn(4, 4)).sum().backward()
          opt.step()
      net.eval()
      with torch.no_grad():
          print(net(torch.randn(2, 4)))
    ` },
    { name: "chained .eval() on the constructor", code: model + py`
      def predict(x):
          net = Net().eval()
          return net(x)
    ` },
    { name: "eval on one branch only: some path reaches eval, silence", code: model + py`
      def evaluate(net, x, frozen):
          if frozen:
              net.eval()
          return net(x)

      def main(x, frozen):
          evaluate(Net(), x, frozen)
    ` },
    { name: "mode from a variable", code: model + py`
      def evaluate(net, x, training):
          net.train(training)
          return net(x)

      evaluate(Net(), torch.randn(2, 4), False)
    ` },
    { name: "model stored on an object before the call", code: model + py`
      class Holder:
          pass

      def evaluate(x):
          net = Net()
          h = Holder()
          h.model = net
          h.run()
          return net(x)
    ` },
    { name: "no_grad with no training or loading before it", code: model + py`
      net = Net()
      with torch.no_grad():
          out = net(torch.randn(2, 4))
    ` },
    { name: "a model class without BatchNorm", code: py`
      import torch
      import torch.nn as nn

      class Plain(nn.Module):
          def __init__(self):
              super().__init__()
              self.fc = nn.Linear(4, 2)

          def forward(self, x):
              return self.fc(x)

      def test(x):
          return Plain()(x)
    ` },
    { name: "torchvision model without BatchNorm (vgg16)", code: py`
      import torch
      import torchvision

      net = torchvision.models.vgg16(pretrained=True)
      with torch.no_grad():
          out = net(torch.randn(1, 3, 224, 224))
    ` },
    { name: "an inline nn.Sequential whose BatchNorm keeps no running statistics", code: py`
      import torch
      import torch.nn as nn

      def test(net, loader):
          with torch.no_grad():
              return [net(x).argmax(1) for x, y in loader]

      net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8, track_running_stats=False), nn.Linear(8, 2))
      net.load_state_dict(torch.load("w.pth"))
      test(net, loader)
    ` },
    { name: "the training flag set after model.eval() (the BatchNorm layers are in eval mode already)", code: model + py`
      net = Net()
      net.load_state_dict(torch.load("w.pth"))
      net.eval()
      net.training = False
      with torch.no_grad():
          print(net(torch.randn(2, 4)))
    ` },
    { name: "a train/val phase loop that switches modes per phase (the fine-tuning tutorial)", code: model + py`
      def train_model(net, loaders, opt):
          for epoch in range(3):
              for phase in ["train", "val"]:
                  if phase == "train":
                      net.train()
                  else:
                      net.eval()
                  for x, y in loaders[phase]:
                      with torch.set_grad_enabled(phase == "train"):
                          loss = net(x).sum()
                          if phase == "train":
                              loss.backward()
                              opt.step()

      train_model(Net(), loaders, opt)
    ` },
  ],
  invalid: [
    { name: "a feature extractor cut from a pretrained model's children, in training mode", code: py`
      import torch
      import torchvision
      model_ft = torchvision.models.resnet18(weights="IMAGENET1K_V1")
      feature_extractor = torch.nn.Sequential(*list(model_ft.children())[:-1])
      print(feature_extractor(torch.randn(1, 3, 224, 224)))
    `, errors: [{ messageId: "missingEval", line: 5, column: 7, messageIncludes: "`feature_extractor` (torchvision.models.resnet18(), which contains BatchNorm)" }] },
    { name: "the same smoke test when the values are read too", code: py`
      import timm
      import torch
      x = torch.randn(1, 3, 224, 224)
      model = timm.create_model("resnet50", pretrained=True)
      out = model(x)
      print(out.shape, out.argmax(1))
    `, errors: [{ messageId: "missingEval", line: 5, column: 7 }] },
    { name: "a pretrained timm model with BatchNorm, and a wrapper class around one, evaluated in training mode", code: py`
      import timm
      import torch
      import torch.nn as nn
      class Classifier(nn.Module):
          def __init__(self):
              super().__init__()
              self.backbone = timm.create_model("efficientnet_b0", pretrained=False, num_classes=0)
              self.head = nn.Linear(1280, 5)
          def forward(self, x):
              return self.head(self.backbone(x))
      model = timm.create_model("resnet50.a1_in1k", pretrained=True, num_classes=10)
      clf = Classifier()
      clf.load_state_dict(torch.load("clf.pth"))
      with torch.no_grad():
          print(model(torch.randn(2, 3, 224, 224)).argmax(1))
          print(clf(torch.randn(2, 3, 224, 224)).argmax(1))
    `, errors: [
      { messageId: "missingEval", line: 15, column: 11, messageIncludes: "`model` (timm.create_model(\"resnet50.a1_in1k\"), which contains BatchNorm)" },
      { messageId: "missingEval", line: 16, column: 11, messageIncludes: "`clf` (Classifier, which contains BatchNorm)" },
    ] },
    { name: "a validation check on held-out data by name inside the training loop, in training mode", code: model + py`
      net = Net()
      opt = torch.optim.Adam(net.parameters())
      for step, (x, y) in enumerate(train_loader):
          loss = nn.functional.cross_entropy(net(x), y)
          opt.zero_grad()
          loss.backward()
          opt.step()
          if step % 50 == 0:
              pred = net(val_data)
              print((pred.argmax(1) == val_target).float().mean())
    `, errors: [{ messageId: "missingEval", line: 21, column: 16, messageIncludes: "is called in code that runs it on held-out data (`val_data`) after training while still in training mode" }] },
    { name: "held-out data after each epoch's training loop, without .eval()", code: model + py`
      net = Net()
      opt = torch.optim.SGD(net.parameters(), lr=0.1)
      for epoch in range(10):
          net.train()
          for x, y in train_loader:
              opt.zero_grad()
              net(x).sum().backward()
              opt.step()
          val_out = net(X_val)
    `, errors: [{ messageId: "missingEval", line: 21, column: 15 }] },
    { name: "`torch.jit.trace` of a loaded model in training mode (after the old `torch.onnx.export`, which restores the mode)", code: py`
      import torch
      import torchvision
      model = torchvision.models.resnet18(weights="IMAGENET1K_V1")
      dummy = torch.randn(1, 3, 224, 224)
      torch.onnx.export(model, dummy, "resnet18.onnx", dynamo=False)
      traced = torch.jit.trace(model, dummy)
    `, errors: [{ messageId: "tracedInTraining", line: 6, column: 10, messageIncludes: ["`model` (torchvision.models.resnet18(), which contains BatchNorm) is traced by `torch.jit.trace` while still in training mode", "Call `model.eval()` before tracing"] }] },
    { name: "`torch.onnx.export` of a model with positional pretrained weights: PyTorch 2.9's default exporter keeps training mode", code: py`
      import torch
      from torchvision import models
      model = models.resnet50(models.ResNet50_Weights.IMAGENET1K_V2)
      torch.onnx.export(model, torch.randn(1, 3, 224, 224), "resnet50.onnx", opset_version=17)
      legacy = models.resnet18(True)
      torch.export.export(legacy, (torch.randn(1, 3, 224, 224),))
    `, errors: [
      { messageId: "exportedInTraining", line: 4, column: 1, messageIncludes: ["is exported by `torch.onnx.export` while still in training mode", "by default since PyTorch 2.9", "Call `model.eval()` before exporting"] },
      { messageId: "tracedInTraining", line: 6, column: 1, messageIncludes: "traced by `torch.export.export`" },
    ] },
    { name: "an export function traces the trained model it is passed; `onnx.export` with `training=PRESERVE` too", code: model + py`
      from torch.onnx import TrainingMode
      def export(net, path):
          torch.jit.save(torch.jit.trace(net, torch.randn(2, 4)), path)
          torch.onnx.export(net, torch.randn(2, 4), path + ".onnx", training=TrainingMode.PRESERVE)
      def main():
          net = Net()
          opt = torch.optim.SGD(net.parameters(), lr=0.1)
          for x, y in train_loader:
              opt.zero_grad()
              net(x).sum().backward()
              opt.step()
          export(net, "net.pt")
    `, errors: [
      { messageId: "tracedInTraining", line: 15, column: 20, messageIncludes: ["`torch.jit.trace`", "(it is passed in by the call at line 24)"] },
      { messageId: "exportedInTraining", line: 16, column: 5, messageIncludes: "`torch.onnx.export`" },
    ] },
    { name: "the same loop, when the outputs are read, is evaluation in training mode", code: py`
      import torch
      import torchvision
      model = torchvision.models.resnet18(weights="IMAGENET1K_V1")
      model.train()
      with torch.no_grad():
          for x, _ in target_loader:
              print(model(x).argmax(1))
    `, errors: [{ messageId: "missingEval", line: 7, column: 15 }] },
    { name: "a checkpoint loaded when it exists, then inference under no_grad", code: py`
      import os
      import torch
      from torchvision import models
      model = models.resnet18()
      if os.path.exists("ckpt.pth"):
          model.load_state_dict(torch.load("ckpt.pth"))
      with torch.no_grad():
          out = model(torch.randn(1, 3, 224, 224))
    `, errors: [{ messageId: "missingEval", line: 8 }] },
    { name: "torchvision.models.get_model(\"resnet50\") is a builder by its registered name", code: py`
      import torch
      import torchvision
      model = torchvision.models.get_model("resnet50", weights="DEFAULT")
      with torch.no_grad():
          logits = model(torch.randn(1, 3, 224, 224))
    `, errors: [{ messageId: "missingEval", line: 5, messageIncludes: "`model` (torchvision.models.get_model(\"resnet50\"), which contains BatchNorm)" }] },
    { name: "a train/val phase loop without the eval() for the val phase", code: model + py`
      def train_model(net, loaders, opt):
          for epoch in range(3):
              for phase in ("train", "val"):
                  if phase == "train":
                      net.train()
                  for x, y in loaders[phase]:
                      with torch.set_grad_enabled(phase == "train"):
                          loss = net(x).sum()
                          if phase == "train":
                              loss.backward()
                              opt.step()

      train_model(Net(), loaders, opt)
    `, errors: [{ messageId: "missingEval", line: 20, messageIncludes: "the loop over `loaders[phase]` in its `phase = \"val\"` pass at line 18 (after training)" }] },
    { name: "model.training = False instead of model.eval(): the BatchNorm layers keep training mode", code: model + py`
      net = Net()
      net.load_state_dict(torch.load("w.pth"))
      net.training = False
      with torch.no_grad():
          print(net(torch.randn(2, 4)))
    `, errors: [{ messageId: "missingEval", line: 17, messageIncludes: ["`net.training = False` (line 15) sets the flag of the top module only, its BatchNorm layers stay in training mode"] }] },
    { name: "a model written inline as an nn.Sequential with a BatchNorm", code: py`
      import torch
      import torch.nn as nn

      def test(net, loader):
          with torch.no_grad():
              return [net(x).argmax(1) for x, y in loader]

      def main(train_loader, test_loader):
          net = nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.BatchNorm1d(8), nn.ReLU()), nn.Linear(8, 2))
          opt = torch.optim.SGD(net.parameters(), lr=0.1)
          for x, y in train_loader:
              opt.zero_grad()
              net(x).sum().backward()
              opt.step()
          test(net, test_loader)
    `, errors: [{ messageId: "missingEval", line: 6, messageIncludes: "`net` (nn.Sequential(…), which contains BatchNorm)" }] },
    { name: "a dev-set check between model.training = False and = True inside a training function", code: model + py`
      def train_plot(batches, x_dev, epochs=3):
          net = Net()
          opt = torch.optim.Adam(net.parameters())
          for epoch in range(epochs):
              net.training = False
              dev = net(x_dev).argmax(1)
              net.training = True
              for x, y in batches:
                  opt.zero_grad()
                  net(x).sum().backward()
                  opt.step()
    `, errors: [{ messageId: "missingEval", line: 18, messageIncludes: "is called in code that `net.training = False` at line 17 marks as evaluation while still in training mode" }] },
    { name: "feature extraction for retrieval after loading weights (extract_feature)", code: model + py`
      def extract_feature(net, loader):
          with torch.no_grad():
              return [net(x) for x, _ in loader]

      net = Net()
      net.load_state_dict(torch.load("w.pth"))
      gallery = extract_feature(net, gallery_loader)
    `, errors: [{ messageId: "missingEval", line: 15, messageIncludes: "evaluation function `extract_feature`" }] },
    { name: "evaluation function called with a freshly created model", code: model + py`
      def validate(net, x):
          return net(x)

      validate(Net(), torch.randn(2, 4))
    `, errors: [{ messageId: "missingEval", line: 14, column: 12, messageIncludes: ["`net` (Net, which contains BatchNorm)", "evaluation function `validate`", "`torch.no_grad()` only turns off gradients", "passed in by the call at line 16"] }] },
    { name: "through two levels of in-file calls", code: model + py`
      def predict_batch(net, x):
          return net(x)

      def run(net, xs):
          return [predict_batch(net, x) for x in xs]

      def main(xs):
          net = Net()
          net.train()
          run(net, xs)
    ` , errors: [{ messageId: "missingEval", line: 14, messageIncludes: ["`.train()` at line 21", "evaluation function `predict_batch`", "passed in by the call at line 22"] }] },
    { name: "train() inside the evaluation function", code: model + py`
      def evaluate(net, x):
          net.eval()
          net.train()
          return net(x)

      evaluate(Net(), torch.randn(2, 4))
    `, errors: [{ messageId: "trainInEval", line: 15, column: 5, messageIncludes: ["called at line 16", "`# bnlint: disable=missing-eval -- test-time BatchNorm adaptation`"] }] },
    { name: "eval undone by train(True) before the no_grad block", code: model + py`
      net = Net()
      opt = torch.optim.SGD(net.parameters(), lr=0.1)
      net.eval()
      net.train(True)
      opt.zero_grad()
      net(torch.randn(4, 4)).sum().backward()
      opt.step()
      with torch.inference_mode():
          out = net(torch.randn(2, 4))
    `, errors: [{ messageId: "missingEval", line: 21, column: 11, messageIncludes: "`torch.inference_mode()` block at line 20 (after training)" }] },
    { name: "inference after load_state_dict, through DataParallel and .to()", code: model + py`
      net = nn.DataParallel(Net()).to("cpu")
      net.load_state_dict(torch.load("w.pt"))
      print(net(torch.randn(2, 4)))
    `, errors: [{ messageId: "missingEval", line: 15, column: 7, messageIncludes: "inference code after the weights are loaded at line 14" }] },
    { name: "an evaluation function that builds its own model and loads weights into it", code: model + py`
      def test(path):
          net = Net()
          net.load_state_dict(torch.load(path))
          return net(torch.randn(2, 4))
    `, errors: [{ messageId: "missingEval", line: 16, column: 12, messageIncludes: "evaluation function `test`" }] },
    { name: "an evaluation function that builds a pretrained torchvision model", code: py`
      import torch
      import torchvision

      def predict(images):
          model = torchvision.models.resnet18(pretrained=True)
          return model(images)
    `, errors: [{ messageId: "missingEval", line: 6, column: 12, messageIncludes: "evaluation function `predict`" }] },
    { name: "a loop over test data after the training loop, in the same epoch loop, without no_grad", code: model + py`
      net = Net()
      opt = torch.optim.Adam(net.parameters())
      for epoch in range(3):
          for x, y in train_loader:
              opt.zero_grad()
              net(x).sum().backward()
              opt.step()
          correct = 0
          for i, (x, y) in enumerate(test_loader):
              correct += (net(x).argmax(1) == y).sum().item()
    `, errors: [{ messageId: "missingEval", line: 22, column: 21, messageIncludes: "the loop over `test_loader` at line 21 (after training)" }] },
    { name: "an evaluation function whose name ends in a digit", code: model + py`
      def validate2(net, x):
          return net(x)

      validate2(Net(), torch.randn(2, 4))
    `, errors: [{ messageId: "missingEval", line: 14, column: 12, messageIncludes: "evaluation function `validate2`" }] },
    { name: "a global model used by an evaluation function", code: model + py`
      net = Net()

      def test():
          return net(torch.randn(2, 4))

      if __name__ == "__main__":
          test()
    `, errors: [{ messageId: "missingEval", line: 16, column: 12, messageIncludes: "(it is the module-level `net`, in the state it has at the call at line 19)" }] },
    { name: "torchvision builder imported by name", code: py`
      import torch
      from torchvision.models import resnet50

      def infer(images):
          model = resnet50(weights="IMAGENET1K_V2")
          with torch.no_grad():
              return model(images)
    `, errors: [{ messageId: "missingEval", line: 7, column: 16, messageIncludes: "torchvision.models.resnet50()" }] },
  ],
});
